"""mkdocs hook: docstring examples (`>>>` lines and their output) become highlighted code.

The docstrings follow the doctest convention without an "Examples" header, so Markdown would
otherwise render them as paragraphs. Lines inside fenced code are left alone.
"""

import re

from markdown import Extension
from markdown.preprocessors import Preprocessor

_FENCE = re.compile(r"^\s*(```|~~~)")
_PROMPT = re.compile(r"^(\s*)>>> ")


class _DoctestBlocks(Preprocessor):
    """Wrap each run of `>>>` lines, with their continuation and output lines, in a fence."""

    def run(self, lines):
        out, fenced, i = [], False, 0
        while i < len(lines):
            line = lines[i]
            if _FENCE.match(line):
                fenced = not fenced
            match = None if fenced else _PROMPT.match(line)
            if match is None:
                out.append(line)
                i += 1
                continue
            indent = match.group(1)
            block = []
            while i < len(lines) and lines[i].strip() and lines[i].startswith(indent):
                block.append(lines[i][len(indent) :])
                i += 1
            out.extend(["", f"{indent}```pycon", *(indent + b for b in block), f"{indent}```", ""])
        return out


class DoctestBlocksExtension(Extension):
    """Register `_DoctestBlocks` before the fenced-code preprocessor runs."""

    def extendMarkdown(self, md):  # noqa: N802 - Python-Markdown's name
        md.preprocessors.register(_DoctestBlocks(md), "doctest_blocks", 27)


def on_config(config):
    """Add the extension to every Markdown instance, mkdocstrings' included."""
    config.markdown_extensions.append(DoctestBlocksExtension())
    return config
