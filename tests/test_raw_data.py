"""data/raw is frozen: every file is listed in MANIFEST.tsv with its sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
MANIFEST = RAW / "MANIFEST.tsv"
HEADER = ["file", "sha256", "description"]


def read_manifest() -> dict[str, tuple[str, str]]:
    """Rows of MANIFEST.tsv as {file: (sha256, description)}; '#' lines are comments."""
    lines = [
        line for line in MANIFEST.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and lines[0].split("\t") == HEADER, f"header must be {HEADER}"
    rows: dict[str, tuple[str, str]] = {}
    for line in lines[1:]:
        fields = line.split("\t")
        assert len(fields) == 3, f"need 3 tab-separated fields: {line!r}"
        name, digest, description = fields
        assert name not in rows, f"{name} listed twice"
        assert len(digest) == 64 and all(c in "0123456789abcdef" for c in digest), line
        assert description.strip(), f"{name} has no description"
        rows[name] = (digest, description)
    return rows


def raw_files() -> list[Path]:
    return sorted(
        p for p in RAW.iterdir()
        if p.is_file() and p.name != MANIFEST.name and not p.name.startswith(".")
    )


def test_manifest_is_well_formed():
    assert read_manifest()


@pytest.mark.parametrize("path", raw_files(), ids=lambda p: p.name)
def test_raw_file_listed_with_right_hash(path):
    rows = read_manifest()
    assert path.name in rows, f"{path.name} is not listed in {MANIFEST.name}"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == rows[path.name][0], (
        f"{path.name} changed since it was recorded in {MANIFEST.name}"
    )


def test_every_listed_file_exists():
    missing = [name for name in read_manifest() if not (RAW / name).is_file()]
    assert missing == []


def test_corpus_not_empty():
    assert raw_files(), "data/raw holds no corpus files"
