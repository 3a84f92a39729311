"""`draw_graph`: the picture of a graph, rendered through graphviz when it is installed."""

import warnings
from pathlib import Path

from autodiff.viz.dot import _outputs, to_dot

_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif", "dot", "gv")
_TEXT_FORMATS = ("dot", "gv")


def draw_graph(tensor, path, format: str | None = None, **to_dot_kwargs) -> Path:  # noqa: A002
    """Draw the graph that produced `tensor` to an image file, through graphviz.

    Parameters
    ----------
    tensor : Tensor or list of Tensor
        As for `to_dot`.
    path : str or Path
        Where to write; its suffix gives the format unless `format` does (no suffix: svg).
    format : str, optional
        One of svg, png, pdf, jpg, jpeg, gif, or dot / gv for the DOT text itself.
    **to_dot_kwargs
        `params`, `show_values`, `show_grads`, `modules`, `depth`: as for `to_dot`.

    Returns
    -------
    Path
        The file written: `path`, or `path` with the suffix .dot when the `graphviz` package or
        its `dot` program is missing (a warning says how to install them).

    Raises
    ------
    TypeError, ValueError : as `to_dot`; ValueError for an unknown format. Nothing is written.
    """
    dot = to_dot(_outputs("draw_graph", tensor), **to_dot_kwargs)
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "svg").lower()
    if fmt not in _FORMATS:
        raise ValueError(f"draw_graph: unknown format {fmt!r} for {path}; use one of {_FORMATS}")
    if not path.suffix:
        path = path.with_suffix(f".{fmt}")
    if fmt in _TEXT_FORMATS:
        path.write_text(dot)
        return path
    image, missing = _render(dot, fmt)
    if image is None:
        fallback = path.with_suffix(".dot")
        fallback.write_text(dot)
        warnings.warn(
            f"draw_graph: cannot render {path.name}: {missing}; wrote the DOT text to "
            f"{fallback} instead (render it with `dot -T{fmt} {fallback} -o {path}`)",
            stacklevel=2,
        )
        return fallback
    path.write_bytes(image)
    return path


def _render(dot: str, fmt: str):
    """(the image as bytes, "") or (None, what is missing and how to install it)."""
    try:
        import graphviz  # optional: the [viz] extra
    except ImportError:
        return None, (
            "the graphviz Python package is not installed (pip install graphviz; it also needs "
            "graphviz's dot program: apt-get install graphviz, or brew install graphviz)"
        )
    try:
        return graphviz.Source(dot).pipe(format=fmt), ""
    except graphviz.ExecutableNotFound:
        return None, (
            "graphviz's dot program is not installed (apt-get install graphviz, or "
            "brew install graphviz)"
        )
