"""``--scaling``: how each peer's time grows with the batch size on the conv and MLP cases.

Time per sample (median time / batch) shows how well a library turns more work into
throughput: per-call overhead dominates at batch 1, and a peer whose time per sample keeps
falling up to batch 256 amortises it; one whose time per sample stays flat pays per example.
"""

from collections.abc import Sequence

from benchmarks.peers import PEER_NAMES
from benchmarks.report import format_seconds, markdown_table
from benchmarks.runner import OK, Result

BATCHES = (1, 8, 64, 256)


def _grid(results: Sequence[Result]) -> dict[tuple[str, str], dict[int, Result]]:
    """(case kind, peer) -> batch -> result, in first-seen order."""
    grid: dict[tuple[str, str], dict[int, Result]] = {}
    for r in results:
        grid.setdefault((r.case.kind, r.peer), {})[r.case.batch] = r
    return grid


def per_sample(result: Result) -> float:
    """Median seconds per example of a timed result."""
    return result.timing.median / result.case.batch


def table(results: Sequence[Result]) -> str:
    """Time per sample for each (case, peer) across batch sizes, as a Markdown table.

    The last column is the time per sample at the smallest batch over that at the largest:
    how much batching pays off for that peer.
    """
    grid = _grid(results)
    batches = sorted({r.case.batch for r in results})
    header = [
        "case",
        "peer",
        *(f"N={n}" for n in batches),
        f"gain N={batches[-1]} vs N={batches[0]}",
    ]
    rows = [header]
    for (kind, peer), by_batch in grid.items():
        cells = []
        for n in batches:
            r = by_batch.get(n)
            cells.append(format_seconds(per_sample(r)) if r and r.status == OK else "n/a")
        small, large = by_batch.get(batches[0]), by_batch.get(batches[-1])
        both = small and large and small.status == OK and large.status == OK
        gain = f"{per_sample(small) / per_sample(large):.1f}x" if both else ""
        rows.append([kind, peer, *cells, gain])
    return markdown_table(rows, right=set(range(2, len(header))))


def plot(results: Sequence[Result], path: str) -> None:
    """Save a log-log plot of time per sample against batch size, one panel per case.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    """
    from matplotlib.figure import Figure

    grid = _grid(results)
    kinds = list(dict.fromkeys(kind for kind, _ in grid))
    colors = {peer: f"C{i}" for i, peer in enumerate(PEER_NAMES)}  # same peer, same colour
    # a Figure of its own, not pyplot's: no backend chosen for the caller
    fig = Figure(figsize=(5 * len(kinds), 4))
    axes = fig.subplots(1, len(kinds), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        for (k, peer), by_batch in grid.items():
            points = sorted((n, per_sample(r)) for n, r in by_batch.items() if r.status == OK)
            if k == kind and points:
                ax.plot(*zip(*points, strict=True), marker="o", label=peer, color=colors.get(peer))
        ax.set(xscale="log", yscale="log", xlabel="batch size", ylabel="seconds per sample")
        ax.set_xticks(BATCHES, [str(n) for n in BATCHES])
        ax.set_title(kind)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
