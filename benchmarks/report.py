"""Presenting results: the printed table, the JSON file, and the bar chart of ratios to torch.

The table is a Markdown pipe table with aligned columns, readable in a terminal and pasted
as-is into the README. "vs torch" is the peer's median time divided by torch's on the same case
(lower is better; 2.00x means twice torch's time), both from the same run: from processes
alternating with torch's in the isolated mode, from samples interleaved with torch's in-process.
"""

import json
from collections.abc import Sequence

from benchmarks.peers import PEER_NAMES
from benchmarks.runner import NA, OK, Result

_NOTE_WIDTH = 70


def format_seconds(seconds: float) -> str:
    """A duration with 3 significant digits in the unit that suits it (s, ms, us, ns)."""
    seconds = float(f"{seconds:.3g}")  # rounded first, so 999.7 us shows as 1 ms, not 1e+03 us
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def rate(result: Result) -> str:
    """GFLOP/s where the case counts FLOPs, GB/s where it counts bytes, else empty."""
    if result.status != OK:
        return ""
    if result.case.flops:
        return f"{result.case.flops / result.timing.median / 1e9:.1f} GFLOP/s"
    if result.case.bytes:
        return f"{result.case.bytes / result.timing.median / 1e9:.1f} GB/s"
    return ""


def ratios(results: Sequence[Result], baseline: str = "torch") -> dict[int, float]:
    """Index of each timed result -> its median over the baseline peer's on the same case."""
    base = {r.case.name: r.timing.median for r in results if r.peer == baseline and r.status == OK}
    return {
        i: r.timing.median / base[r.case.name]
        for i, r in enumerate(results)
        if r.status == OK and r.case.name in base
    }


def _row(result: Result, ratio: float | None) -> list[str]:
    """Table cells of one result."""
    if result.status != OK:
        note = result.note
        if len(note) > _NOTE_WIDTH:
            note = note[: _NOTE_WIDTH - 3] + "..."
        status = "n/a" if result.status == NA else "ERROR"
        return [result.case.name, result.peer, status, "", "", "", "", "", note]
    t = result.timing
    runs = str(len(t.samples))
    if t.calls_per_sample > 1:
        runs += f"x{t.calls_per_sample}"
    if t.processes > 1:
        runs += f" in {t.processes}p"
    return [
        result.case.name,
        result.peer,
        format_seconds(t.median),
        f"{format_seconds(t.p25)} - {format_seconds(t.p75)}",
        runs,
        "" if ratio is None else f"{ratio:.2f}x",
        rate(result),
        format_seconds(t.first_call),
        "",
    ]


_HEADER = ["case", "peer", "median", "p25 - p75", "runs", "vs torch", "rate", "first call", "note"]


def markdown_table(rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """Rows (the first is the header) as a Markdown table padded to align in plain text.

    Parameters
    ----------
    rows : sequence of sequence of str
        Header row first; every row has the same number of cells.
    right : set of int
        Indices of the columns to right-align (numbers).
    """
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]

    def line(cells):
        return (
            "| "
            + " | ".join(
                cell.rjust(w) if c in right else cell.ljust(w)
                for c, (cell, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    rule = ["-" * (w - 1) + ":" if c in right else "-" * w for c, w in enumerate(widths)]
    return "\n".join([line(rows[0]), "| " + " | ".join(rule) + " |", *map(line, rows[1:])])


def table(results: Sequence[Result]) -> str:
    """The results as a Markdown table, one row per (case, peer).

    "runs" is the number of samples, times the calls looped within each sample when more
    than one, and "in 4p" when the samples come from 4 processes (isolated mode).
    """
    ratio = ratios(results)
    rows = [_HEADER] + [_row(r, ratio.get(i)) for i, r in enumerate(results)]
    return markdown_table(rows, right={2, 3, 4, 5, 6, 7})


def to_json(results: Sequence[Result], machine: dict, settings: dict, skipped: dict) -> dict:
    """Everything needed to compare runs later: machine, settings, every sample.

    Parameters
    ----------
    results : sequence of Result
    machine : dict
        From :func:`benchmarks.machine.describe`.
    settings : dict
        Command-line choices and timing budget.
    skipped : dict
        Peer name -> why it did not run at all.

    Returns
    -------
    dict
        JSON-ready document.
    """
    ratio = ratios(results)
    rows = []
    for i, r in enumerate(results):
        row = {
            "case": r.case.name,
            "kind": r.case.kind,
            "description": r.case.description,
            "params": dict(r.case.params),
            "flops": r.case.flops,
            "bytes": r.case.bytes,
            "batch": r.case.batch,
            "peer": r.peer,
            "status": r.status,
            "note": r.note,
        }
        if r.status == OK:
            t = r.timing
            row |= {
                "median_s": t.median,
                "p25_s": t.p25,
                "p75_s": t.p75,
                "first_call_s": t.first_call,
                "calls_per_sample": t.calls_per_sample,
                "processes": t.processes,
                "samples_s": list(t.samples),
                "ratio_to_torch": ratio.get(i),
                "gflops": r.case.flops / t.median / 1e9 if r.case.flops else None,
                "gbytes_per_s": r.case.bytes / t.median / 1e9 if r.case.bytes else None,
            }
        rows.append(row)
    return {"machine": machine, "settings": settings, "skipped_peers": skipped, "results": rows}


def write_json(path: str, document: dict) -> None:
    """Write ``document`` to ``path``, indented."""
    with open(path, "w") as f:
        json.dump(document, f, indent=2)
        f.write("\n")


def plot_ratios(document: dict, path=None):
    """A bar chart of each case's ratio to torch: one bar per peer other than torch, on a log
    axis with torch at 1.0; save it when `path` is given (needs matplotlib).

    Parameters
    ----------
    document : dict
        What :func:`to_json` returns, or a ``--json`` file loaded back.
    path : str or path-like, optional
        Where to write the image (format from the suffix: .png, .svg, .pdf).

    Returns
    -------
    matplotlib.figure.Figure
        One Axes, cases from top to bottom in the run's order, each bar labelled with its ratio;
        the title names the machine and the mode.

    Raises
    ------
    ValueError
        No result has a ratio to torch (torch did not run, or failed everywhere).
    ImportError
        matplotlib is not installed.
    """
    rows = [
        r
        for r in document["results"]
        if r["status"] == OK and r["peer"] != "torch" and r.get("ratio_to_torch") is not None
    ]
    if not rows:
        raise ValueError(
            "plot_ratios: no result has a ratio to torch; was torch among the peers of the run?"
        )
    from matplotlib.figure import Figure

    cases = list(dict.fromkeys(r["case"] for r in rows))
    seen = {r["peer"] for r in rows}
    peers = [p for p in PEER_NAMES if p in seen] + sorted(seen - set(PEER_NAMES))
    colours = {peer: f"C{i}" for i, peer in enumerate(PEER_NAMES)}  # as in the scaling plot
    height = 0.8 / len(peers)
    # a Figure of its own, not pyplot's: no global state, no backend chosen for the caller
    fig = Figure(figsize=(8, 1.6 + 0.3 * len(rows)), layout="tight")
    ax = fig.subplots()
    for k, peer in enumerate(peers):
        mine = [r for r in rows if r["peer"] == peer]
        y = [-cases.index(r["case"]) + 0.4 - (k + 0.5) * height for r in mine]
        ratio = [r["ratio_to_torch"] for r in mine]
        # from torch's 1.0 outwards: faster than torch to the left, slower to the right
        widths = [value - 1.0 for value in ratio]
        ax.barh(y, widths, height, left=1.0, label=peer, color=colours.get(peer))
        for row, value in zip(y, ratio, strict=True):
            side = "left" if value >= 1 else "right"
            ax.text(value, row, f" {value:.2f}x ", ha=side, va="center", fontsize="small")
    ratios = [r["ratio_to_torch"] for r in rows]
    ax.axvline(1.0, color="black", linewidth=1, label="torch")
    ax.set_xscale("log")
    low, high = min(0.5, min(ratios) / 3), max(2.0, max(ratios) * 3)  # room for the labels
    ticks = [m * 10.0**e for e in range(-3, 4) for m in (1, 2, 5) if low <= m * 10.0**e <= high]
    ax.set_xlim(low, high)
    ax.set_xticks(ticks, [f"{t:g}x" for t in ticks])
    ax.set_xticks([], minor=True)
    ax.set_yticks([-i for i in range(len(cases))], cases)
    ax.set_xlabel("median time / torch's on the same case (lower is better)")
    machine, mode = document.get("machine", {}), document.get("settings", {}).get("mode", "?")
    ax.set_title(f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores; mode: {mode}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize="small")
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
