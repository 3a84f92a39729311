"""examples/detect_shapes.py in its fast setting (a pipeline check, not the mAP target), and its
k-means anchors. The full run (mAP@0.5 >= 0.7) is `python examples/detect_shapes.py`."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "detect_shapes.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("example_detect_shapes", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fast_run_trains_decodes_and_scores(example, tmp_path, capsys):
    plot = tmp_path / "detections.png"
    result = example.main(["--fast", "--plot", str(plot)])
    out = capsys.readouterr().out
    assert "mAP@0.5 on 32 held-out images" in out
    losses = result["losses"]
    assert len(losses) == 2 and np.isfinite(losses).all() and losses[1] < losses[0]
    assert 0 <= result["map"] <= 1
    boxes, scores, classes = result["detections"]
    assert len(boxes) == len(scores) == len(classes) == 32
    for b, s, c in zip(boxes, scores, classes, strict=True):
        assert b.shape == (len(s), 4) and ((b >= 0) & (b <= 1)).all()
        assert (s > example.MAP_SCORE_THRESHOLD).all() and (s <= 1).all()
        assert (np.diff(s) <= 0).all()
        assert ((c >= 0) & (c < example.NUM_CLASSES)).all()
    anchors = result["anchors"]
    assert anchors.shape == (2, 2) and (anchors > 0).all() and (anchors < 1).all()
    if importlib.util.find_spec("matplotlib") is not None:
        assert "predictions drawn" in out and plot.stat().st_size > 0


def test_fast_run_without_plot(example, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    example.main(["--fast", "--no-plot", "--epochs", "1"])
    assert "predictions drawn" not in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_model_output_layout(example):
    import autodiff as ad

    model = example.Detector()
    out = model(ad.zeros(2, 3, 64, 64))
    assert tuple(out.shape) == (2, example.GRID, example.GRID, 2, 5 + example.NUM_CLASSES)


def test_kmeans_anchors_find_the_two_box_sizes(example):
    rng = np.random.default_rng(0)
    shapes = np.concatenate([np.full((50, 2), [0.1, 0.2]), np.full((30, 2), [0.4, 0.3])])
    shapes = shapes * rng.uniform(0.95, 1.05, shapes.shape)
    corners = rng.uniform(0, 0.5, (80, 2))
    boxes = np.concatenate([corners, corners + shapes[:, ::-1]], 1)  # x1, y1, x2 = x1 + w, ...
    anchors = example.kmeans_anchors(boxes, 2, rng)
    np.testing.assert_allclose(anchors, [[0.1, 0.2], [0.4, 0.3]], atol=0.01)
    assert anchors.dtype == np.float32
