"""Every public function documents itself with a one-line summary and a doctest (run by --doctest-modules)."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = ["plan_analysis", "plan_analysis.load", "plan_analysis.normalize", "plan_analysis.offsets",
           "plan_analysis.split", "plan_analysis.meta", "plan_analysis.corpus", "plan_analysis.targets",
           "plan_analysis.tokenize", "plan_analysis.lexicons", "plan_analysis.fonts", "plan_analysis.plots",
           "plan_analysis.explore", "plan_analysis.report", "plan_analysis.themes", "plan_analysis.theme_plots",
           "plan_analysis.phrasing", "plan_analysis.phrasing_plots", "plan_analysis.cli"]


def _public():
    for name in MODULES:
        mod = importlib.import_module(name)
        for attr in getattr(mod, "__all__", []):
            obj = getattr(mod, attr)
            if inspect.isfunction(obj) and obj.__module__ == name:
                yield f"{name}.{attr}", obj


@pytest.mark.parametrize("qualname, func", list(_public()), ids=lambda x: x if isinstance(x, str) else "")
def test_public_function_has_summary_and_doctest(qualname, func):
    doc = inspect.getdoc(func) or ""
    assert doc, f"{qualname} has no docstring"
    first = doc.splitlines()[0]
    assert first.endswith("."), f"{qualname}: the first line should be a one-line summary ending with a period: {first!r}"
    assert ">>>" in doc, f"{qualname} has no doctest example"


def test_readme_lists_the_public_api():
    from pathlib import Path

    import plan_analysis

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [name for name in plan_analysis.__all__ if name not in readme]
    assert not missing, f"README.md does not mention: {missing}"
