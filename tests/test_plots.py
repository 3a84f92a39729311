"""The plots: learning-rate schedules, the gradcheck report, the benchmark ratios to torch and the
training curves. Each writes a PNG and returns its Figure, whose content is checked here."""

import json
import math
from dataclasses import replace

import numpy as np
import pytest

import autodiff as ad
import nn
from benchmarks import cli, report
from benchmarks.cases import all_cases
from benchmarks.runner import NA, OK, Result
from benchmarks.timing import Timing
from nn.training import plot_history
from optim import SGD
from optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    InverseSqrtLR,
    InverseTimeLR,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
)
from optim.plot import plot_schedule, schedule_values

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def mpl():
    """matplotlib with the file-only backend, or a skip without it."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    return matplotlib


def _is_png(path):
    return path.read_bytes()[:8] == PNG


def _bars(ax):
    """The bars of every bar() / barh() call on `ax` (not the shaded bands)."""
    return [bar for container in ax.containers for bar in container]


# --- learning-rate schedules ---------------------------------------------------------------


def test_schedule_values_are_the_closed_forms():
    epochs = np.arange(30)
    lrs, name = schedule_values(lambda opt: StepLR(opt, step_size=10, gamma=0.5), 30, lr=0.2)
    assert name == "StepLR" and lrs.shape == (30, 1)
    np.testing.assert_allclose(lrs[:, 0], 0.2 * 0.5 ** (epochs // 10))
    lrs, _ = schedule_values(lambda opt: InverseTimeLR(opt, decay_rate=1.0), 30, lr=0.2)
    np.testing.assert_allclose(lrs[:, 0], 0.2 / (1 + epochs))
    assert schedule_values(lambda opt: StepLR(opt, 3), 0)[0].shape == (0, 1)


def test_schedule_values_leave_the_users_optimizer_alone():
    w = ad.tensor(np.ones(2, np.float32), requires_grad=True)
    b = ad.tensor(np.ones(1, np.float32), requires_grad=True)
    optimizer = SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1, momentum=0.9)
    scheduler = OneCycleLR(optimizer, max_lr=[1.0, 0.1], total_steps=20)
    scheduler.step()
    before = [dict((k, v) for k, v in g.items() if k != "params") for g in optimizer.param_groups]
    lrs, name = schedule_values(scheduler, 19)
    assert name == "OneCycleLR" and lrs.shape == (19, 2)
    np.testing.assert_allclose(lrs[:, 1], lrs[:, 0] / 10)
    assert lrs[0, 0] == scheduler.get_last_lr()[0]  # from where it stands: step 1
    assert lrs[:, 0].max() == pytest.approx(1.0)
    after = [dict((k, v) for k, v in g.items() if k != "params") for g in optimizer.param_groups]
    assert after == before and scheduler.last_epoch == 1
    assert scheduler.optimizer is optimizer


def test_schedule_values_reject_what_is_not_an_epoch_schedule():
    w = ad.tensor(np.ones(2, np.float32), requires_grad=True)
    optimizer = SGD([w], lr=0.1)
    with pytest.raises(TypeError, match="ReduceLROnPlateau"):
        schedule_values(ReduceLROnPlateau(optimizer), 5)
    with pytest.raises(TypeError, match="got int"):
        schedule_values(lambda opt: 3, 5)
    with pytest.raises(TypeError, match="got str"):
        schedule_values("StepLR", 5)
    with pytest.raises(ValueError, match="steps"):
        schedule_values(lambda opt: StepLR(opt, 3), -1)


def test_plot_schedule_draws_the_course_decays(mpl, tmp_path):
    path = tmp_path / "schedules.png"
    schedules = {
        "1 / (1 + epoch)": lambda opt: InverseTimeLR(opt, decay_rate=1.0),
        "0.95 ** epoch": lambda opt: ExponentialLR(opt, gamma=0.95),
        "k / sqrt(epoch)": lambda opt: InverseSqrtLR(opt),
        "staircase": lambda opt: StepLR(opt, step_size=10, gamma=0.5),
        "cosine": lambda opt: CosineAnnealingLR(opt, T_max=40),
        "1cycle": lambda opt: OneCycleLR(opt, max_lr=0.1, total_steps=40),
    }
    fig = plot_schedule(schedules, 40, path, log=True)
    assert _is_png(path)
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == list(schedules)
    exponential = ax.lines[1]
    np.testing.assert_allclose(exponential.get_xdata(), np.arange(40))
    np.testing.assert_allclose(exponential.get_ydata(), 0.1 * 0.95 ** np.arange(40))
    assert ax.get_yscale() == "log"


def test_plot_schedule_draws_a_line_per_group(mpl):
    w = ad.tensor(np.ones(2, np.float32), requires_grad=True)
    b = ad.tensor(np.ones(1, np.float32), requires_grad=True)
    optimizer = SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1)
    fig = plot_schedule([StepLR(optimizer, 5)], 12)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["StepLR (group 0)", "StepLR (group 1)"]
    assert optimizer.param_groups[1]["lr"] == 0.01


# --- gradcheck report ----------------------------------------------------------------------


def _report():
    """A gradcheck report of a linear layer's weight and bias (right) and of an input whose
    gradient is half what it should be (a bug)."""
    ad.manual_seed(0)
    layer = nn.Linear(3, 2)
    x = ad.tensor(np.random.default_rng(0).random((4, 3)))
    c = ad.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)

    def fn(weight, bias, c):
        return layer(x).sum() + (c.detach() * c).sum()  # d/dc is 2c; this gives c

    inputs = [*layer.parameters(), c]
    return ad.gradcheck(fn, inputs, raise_exception=False)


def test_gradcheck_report_plot_has_a_bar_per_input_and_the_bands(mpl, tmp_path):
    report_ = _report()
    assert [r.verdict for r in report_.inputs] == ["correct", "correct", "bug"]
    path = tmp_path / "gradcheck.png"
    fig = report_.plot(path, names=["weight", "bias", "c"])
    assert _is_png(path)
    (ax,) = fig.axes
    bars = _bars(ax)
    assert len(bars) == 4  # three inputs, then all of them together
    assert [t.get_text() for t in ax.get_yticklabels()] == ["weight", "bias", "c", "all inputs"]
    assert list(ax.get_yticks()) == sorted(ax.get_yticks(), reverse=True)  # first at the top
    assert ax.get_xscale() == "log"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["correct (< 1e-7)", "look closer (< 1e-5)", "suspicious (< 1e-3)", "bug"]
    texts = [t.get_text() for t in ax.texts]
    assert any("FAILED" in t for t in texts) and "FAILED" in ax.get_title()
    # the bar of c reaches its relative difference, past 1e-3
    bar_c = bars[2]
    assert bar_c.get_x() + bar_c.get_width() == pytest.approx(report_.inputs[2].rel_diff)


def test_gradcheck_plot_of_one_input_and_bad_names(mpl):
    x = ad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    single = ad.gradcheck(lambda x: (x * x).sum(), x)
    fig = single.plot()
    assert len(_bars(fig.axes[0])) == 1 and "passed" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="names"):
        _report().plot(names=["weight"])


# --- benchmark ratios ----------------------------------------------------------------------


def _document():
    """A run's JSON document from made-up results: torch at 1 s on every case."""
    base = all_cases()[0]
    seconds = {
        ("conv", "autodiff"): 2.0,
        ("conv", "numpy"): 0.5,
        ("mlp", "autodiff"): 1.5,
        ("mlp", "numpy"): 4.0,
        ("pool", "autodiff"): 3.0,
    }
    results = []
    for name in ("conv", "mlp", "pool"):
        case = replace(base, name=name)
        for peer in ("autodiff", "torch", "numpy"):
            t = 1.0 if peer == "torch" else seconds.get((name, peer))
            if t is None:
                results.append(Result(case, peer, NA, "not supported"))
            else:
                results.append(Result(case, peer, OK, timing=Timing(t, (t, t, t), 1)))
    machine = {"cpu": "Test CPU", "cores": 2}
    return report.to_json(results, machine, {"mode": "isolated"}, {})


def test_plot_ratios_draws_a_bar_per_peer_and_case(mpl, tmp_path):
    path = tmp_path / "ratios.png"
    fig = report.plot_ratios(_document(), path)
    assert _is_png(path)
    (ax,) = fig.axes
    by_peer = {c.get_label(): c for c in ax.containers}
    assert sorted(by_peer) == ["autodiff", "numpy"]
    assert len(by_peer["autodiff"]) == 3 and len(by_peer["numpy"]) == 2  # numpy n/a on pool
    ends = sorted(bar.get_x() + bar.get_width() for bar in _bars(ax))
    np.testing.assert_allclose(ends, [0.5, 1.5, 2.0, 3.0, 4.0])
    assert {"2.00x", "0.50x", "4.00x"} <= {t.get_text().strip() for t in ax.texts}
    assert [t.get_text() for t in ax.get_yticklabels()] == ["conv", "mlp", "pool"]
    assert "Test CPU" in ax.get_title() and "isolated" in ax.get_title()
    assert ax.get_xscale() == "log"
    assert any(list(line.get_xdata()) == [1.0, 1.0] for line in ax.lines)  # torch's line


def test_benchmarks_cli_plots_a_saved_json(mpl, tmp_path, capsys):
    saved, path = tmp_path / "bench.json", tmp_path / "ratios.png"
    saved.write_text(json.dumps(_document()))
    assert cli.main(["--from-json", str(saved), "--plot", str(path)]) == 0
    assert _is_png(path)
    without_torch = _document()
    without_torch["results"] = [r for r in without_torch["results"] if r["peer"] != "torch"]
    for r in without_torch["results"]:
        r["ratio_to_torch"] = None
    saved.write_text(json.dumps(without_torch))
    assert cli.main(["--from-json", str(saved), "--plot", str(tmp_path / "none.png")]) == 1
    assert "no result has a ratio to torch" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--from-json", str(saved)])  # nothing to do without --plot


# --- training curves -----------------------------------------------------------------------


def test_plot_history_draws_every_metric(mpl, tmp_path):
    history = {
        "train_loss": [1.0, 0.5, 0.4],
        "train_acc": [0.5, 0.8, 0.85],
        "train_f1_macro": [0.4, 0.7, 0.8],
        "dev_loss": [1.1, 0.6, 0.7],
        "dev_acc": [0.4, 0.7, 0.65],
        "dev_f1_macro": [0.3, 0.6, 0.55],
        "best_epoch": 2,
    }
    path = tmp_path / "curves.png"
    fig = plot_history(history, path)
    assert _is_png(path)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == ["loss", "accuracy", "f1_macro"]
    for ax in shown:
        labels = [line.get_label() for line in ax.lines]
        assert labels == ["train", "dev", "best epoch"]
    np.testing.assert_allclose(shown[2].lines[1].get_ydata(), history["dev_f1_macro"])
    with pytest.raises(ValueError, match="no curve"):
        plot_history({"best_epoch": None})
    assert math.isclose(shown[0].lines[0].get_xdata()[-1], 3)
