"""Fixtures several test modules share."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def corpus_of(tmp_path_factory):
    """``corpus_of(texts)``: a corpus loaded (uncached) from ``{name: text}`` written as ``name.txt`` files."""
    from plan_analysis import load_corpus

    def make(texts: dict[str, str], *, folder_name: str = "corpus"):
        folder = tmp_path_factory.mktemp(folder_name)
        for name, text in texts.items():
            (folder / f"{name}.txt").write_text(text, encoding="utf-8")
        return load_corpus(folder, cache=False, progress=False)

    return make


@pytest.fixture
def deny_reading(monkeypatch):
    """``deny_reading(name)``: reading a file of that name raises PermissionError, as for an unreadable file.

    Tests run as root, where ``chmod 0`` does not stop reads, so ``Path.read_bytes`` is patched.
    """
    real = Path.read_bytes
    denied: set[str] = set()

    def read_bytes(self):
        if self.name in denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    return denied.add


@pytest.fixture
def cache_entries():
    """``cache_entries(cache_dir)``: the keys of every per-file cache entry in the packs under ``cache_dir``."""
    from plan_analysis.corpus import _pack_index

    def entries(cache_dir) -> set[str]:
        keys: set[str] = set()
        for folder in {p.parent for p in Path(cache_dir).rglob("pack-*.z")}:
            for name_key, found in _pack_index(folder).items():
                keys.update(f"{sha}-{name_key}" for sha, *_ in found)
        return keys

    return entries


@pytest.fixture
def report_folders(tmp_path, monkeypatch):
    """``report_folders(files)``: a private cache, an empty notebooks folder and a corpus folder holding
    ``files`` (``{name: text}``); returns the two folders."""

    def make(files: dict[str, str]) -> tuple[Path, Path]:
        monkeypatch.setenv("PLAN_ANALYSIS_CACHE", str(tmp_path / "cache"))
        nb_dir, corpus = tmp_path / "notebooks", tmp_path / "corpus"
        nb_dir.mkdir()
        corpus.mkdir()
        for name, text in files.items():
            (corpus / name).write_text(text, encoding="utf-8")
        return nb_dir, corpus

    return make
