"""Run the code of a documentation page, in order, in one namespace.

A page's ```python blocks are executed as they are; its ```pycon blocks (`>>>` lines with the
output they print) are run as doctests, so the output a page shows is the output it gets.
Other blocks (```bash, ```text) are not run.

    python -m tests.docs_runner docs/tutorial/computation-graph.md [more pages]
"""

import doctest
import os
import re
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# a fence at the start of a line (or indented, inside an admonition), its language, its body
_BLOCK = re.compile(r"^( *)```(\w+)[^\n]*\n(.*?)^\1```[ \t]*$", re.S | re.M)


def code_blocks(text: str) -> list[tuple[str, str, int]]:
    """The (language, source, line number) of each fenced block of a Markdown text, in order."""
    blocks = []
    for m in _BLOCK.finditer(text):
        indent = len(m.group(1))
        source = "".join(line[indent:] + "\n" for line in m.group(3).splitlines())
        blocks.append((m.group(2), source, text.count("\n", 0, m.start()) + 2))
    return blocks


def run_page(path: Path) -> int:
    """Run every python and pycon block of the page at `path`; returns how many ran.

    Raises the block's own exception (with the page and line in the traceback) or an
    `AssertionError` holding the doctest report of a pycon block whose output differs.
    """
    namespace = {"__name__": f"docs.{path.stem}"}
    ran = 0
    for language, source, line in code_blocks(path.read_text()):
        if language == "python":
            exec(compile(source, f"{path}:{line}", "exec"), namespace)  # noqa: S102
        elif language == "pycon":
            _run_doctest(source, namespace, f"{path.name}:{line}", str(path), line)
        else:
            continue
        ran += 1
    return ran


def _run_doctest(source, namespace, name, filename, line):
    test = doctest.DocTestParser().get_doctest(source, namespace, name, filename, line - 1)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = []
    runner.run(test, out=report.append, clear_globs=False)
    namespace.update(test.globs)  # DocTest runs on a copy: later blocks see its names
    if runner.failures:
        raise AssertionError(f"{name}: output differs from the page\n{''.join(report)}")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        page = Path(arg).resolve()
        with tempfile.TemporaryDirectory() as tmp:  # pages write files (checkpoints, pictures)
            os.chdir(tmp)
            print(f"{arg}: {run_page(page)} blocks ran")
