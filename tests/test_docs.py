"""The documentation: its pages' code runs, the docstring examples pass, every public name has
a docstring, and the site builds with `mkdocs build --strict` (when mkdocs is installed)."""

import doctest
import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
import types

import pytest

from tests.docs_runner import DOCS, FLAGS, code_blocks, run_page

ROOT = DOCS.parent
PAGES = sorted(DOCS.rglob("*.md"))

# the modules of the API reference: each has a page, and each public name a docstring
REFERENCE = (
    "autodiff",
    "autodiff.data",
    "nn",
    "nn.functional",
    "nn.init",
    "nn.models",
    "nn.training",
    "optim",
    "optim.lr_scheduler",
    "autodiff.metrics",
    "autodiff.tune",
    "autodiff.viz",
    "autodiff.vision",
    "autodiff.distributed",
)
PACKAGES = ("autodiff", "nn", "optim")
OURS = PACKAGES


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_code_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # pages write checkpoints and pictures
    run_page(page)


def test_tutorial_and_howto_pages_have_code():
    for page in PAGES:
        if page.parent.name in ("tutorial", "howto") and page.name != "index.md":
            languages = [language for language, _, _ in code_blocks(page.read_text())]
            assert {"python", "pycon"} & set(languages), f"{page} runs no code"


def test_runner_reports_a_wrong_output(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\nx = 2\n```\n\n```pycon\n>>> x + 1\n4\n```\n")
    with pytest.raises(AssertionError, match="output differs"):
        run_page(page)


def test_every_page_is_in_the_navigation():
    config = (ROOT / "mkdocs.yml").read_text()
    missing = [str(p.relative_to(DOCS)) for p in PAGES if str(p.relative_to(DOCS)) not in config]
    assert not missing, f"pages missing from mkdocs.yml's nav: {missing}"


@pytest.mark.parametrize("module", REFERENCE)
def test_reference_page_exists(module):
    pages = "".join(p.read_text() for p in (DOCS / "api").glob("*.md"))
    assert f"::: {module}\n" in pages


def _public(module) -> list[str]:
    """`__all__`, or else the public names the module defines (not those it imports)."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, obj in vars(module).items()
            if not n.startswith("_") and getattr(obj, "__module__", None) == module.__name__
        ]
    return list(names)


def _ours(obj) -> bool:
    return (getattr(obj, "__module__", None) or "").split(".")[0] in OURS


def _undocumented(module_name) -> list[str]:
    """Public names of the module (functions, classes, and the public methods and properties of
    those classes) without a docstring; a method inherits its base class method's docstring."""
    module = importlib.import_module(module_name)
    missing = []
    for name in _public(module):
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType):
            if not obj.__doc__:
                missing.append(f"{module_name}.{name} (module)")
            continue
        if not (inspect.isclass(obj) or callable(obj)) or not _ours(obj):
            continue  # constants, dtypes, and names re-exported from numpy
        if not (obj.__doc__ or "").strip():
            missing.append(f"{module_name}.{name}")
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(value, staticmethod | classmethod):
                    value = value.__func__
                if not (callable(value) or isinstance(value, property)):
                    continue
                if not inspect.getdoc(getattr(obj, attr)):
                    missing.append(f"{module_name}.{name}.{attr}")
    return missing


@pytest.mark.parametrize("module_name", REFERENCE)
def test_public_names_have_docstrings(module_name):
    missing = _undocumented(module_name)
    assert not missing, f"{len(missing)} public names without a docstring: {missing}"


def _modules() -> list[str]:
    names = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        names.append(package_name)
        names += [m.name for m in pkgutil.walk_packages(package.__path__, f"{package_name}.")]
    return sorted(names)


@pytest.mark.parametrize("module_name", _modules())
def test_docstring_examples(module_name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = []
    for test in finder.find(module, module_name):
        runner.run(test, out=report.append)
    assert not runner.failures, "".join(report)


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("material")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "index.html").exists()
    assert (tmp_path / "api" / "autodiff" / "index.html").exists()
