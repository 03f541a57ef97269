"""Notebooks are committed clean: no outputs, a title, a papermill
"parameters" cell, and no helper code that belongs in the package."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(
    p for p in NOTEBOOKS_DIR.glob("**/*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
NUMBERED = [p for p in NOTEBOOKS if re.match(r"\d\d_", p.name)]
DEF_RE = re.compile(r"^\s*(async\s+)?def\s", re.MULTILINE)


def _ids(path: Path) -> str:
    return str(path.relative_to(NOTEBOOKS_DIR))


def _code_cells(path: Path):
    nb = nbformat.read(path, as_version=4)
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def test_notebooks_dir_exists():
    assert NOTEBOOKS_DIR.is_dir()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_valid_and_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert dirty == [], f"cells {dirty} have outputs or an execution_count; clear them before committing"


@pytest.mark.parametrize("path", NUMBERED, ids=_ids)
def test_numbered_notebook_has_title_and_parameters(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells, "empty notebook"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        "first cell must be a markdown title starting with '# '"
    )
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), (
        "no cell tagged 'parameters' (papermill convention)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_no_sys_path_hacks_or_function_definitions(path):
    offending = [
        i for i, cell in _code_cells(path)
        if "sys.path" in cell.source or DEF_RE.search(cell.source)
    ]
    assert offending == [], (
        f"cells {offending} use sys.path or define functions; put helpers in plan_analysis/"
    )
