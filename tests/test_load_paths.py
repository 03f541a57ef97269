"""Which files a load reads: names that would share document ids, files given twice, hidden files,
links, empty paths, damaged .docx and damaged UTF-8. Each is read once with ids of its own, or
named in the load report with the reason."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from plan_analysis import load_corpus
from plan_analysis.load import decode_bytes, doc_stem, find_files, read_texts

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"
PLAN = RAW / "001_64b46b310826ad2c.txt"   # 铁西街道2024年工作计划
OTHER = RAW / "004_c7e8bd28e2541a55.txt"


def _load(paths, tmp_path: Path):
    return load_corpus(paths, cache=True, cache_dir=tmp_path / "cache", progress=False, engine="serial")


def _reasons(corpus) -> dict[str, str]:
    return {r.source_file: r.reason for r in corpus.load_report.itertuples() if r.status == "skipped"}


def test_the_same_name_with_two_endings_gives_two_sets_of_ids(tmp_path):
    from plan_analysis.targets import extract_targets

    folder = tmp_path / "g"
    folder.mkdir()
    (folder / "a.txt").write_bytes(PLAN.read_bytes())
    (folder / "a.md").write_bytes(OTHER.read_bytes())
    (folder / "a.TXT").write_bytes(PLAN.read_bytes()[:3000].decode("utf-8", "ignore").encode("gb18030"))
    corpus = _load(folder, tmp_path)
    docs = corpus.documents
    assert docs["doc_id"].is_unique
    assert set(docs.loc[docs["source_file"] == "a.md", "doc_id"].str.rsplit("-", n=1).str[0]) == {"a.md"}
    assert set(docs.loc[docs["source_file"] == "a.txt", "doc_id"].str.rsplit("-", n=1).str[0]) == {"a"}
    targets = extract_targets(corpus, workers=1)
    assert len(targets) and set(targets["source_file"]) == {"a.txt", "a.md", "a.TXT"}
    for row in targets.itertuples():  # every figure's raw span lands on its clause in its own file
        raw = corpus.raw_slice(row.source_file, row.raw_start, row.raw_end)
        assert _han(raw) == _han(row.clause) and row.figure.strip("%") in raw, (raw, row)


def _han(text: str) -> str:
    return "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")


def test_doc_stem_drops_only_txt():
    assert [doc_stem(n) for n in ("a.txt", "浙江/a.txt", "a.md", "a.TXT", "a", "a.txt.txt")] == \
        ["a", "浙江/a", "a.md", "a.TXT", "a", "a.txt"]


@pytest.mark.parametrize("how", ["twice", "file and folder", "link"])
def test_a_file_given_twice_is_read_once_and_the_repeat_reported(tmp_path, how):
    folder = tmp_path / "f"
    folder.mkdir()
    a = folder / "a.txt"
    a.write_bytes(PLAN.read_bytes())
    if how == "twice":
        paths = [a, a]
    elif how == "file and folder":
        paths = [a, folder]
    else:
        (folder / "b.txt").symlink_to(a)
        paths = [folder]
    corpus = _load(paths, tmp_path)
    assert corpus.documents["doc_id"].is_unique
    assert corpus.documents["source_file"].nunique() == 1
    reasons = _reasons(corpus)
    assert len(reasons) == 1 and "the same file as a.txt, read once" in next(iter(reasons.values())), reasons


def test_files_whose_ids_would_clash_are_named_by_their_path(tmp_path):
    (tmp_path / "a").write_bytes(PLAN.read_bytes())
    (tmp_path / "a.txt").write_bytes(OTHER.read_bytes())
    found, problems = find_files([tmp_path / "a", tmp_path / "a.txt"])
    # the whole paths still give the same ids (…/a-1): the second is refused with what to do
    assert [s for _, s in found] == [str(tmp_path / "a")]
    assert problems == [(str(tmp_path / "a.txt"),
                         f"skipped: its documents would have the ids of {tmp_path / 'a'}'s; rename one of the two files")]
    found, problems = find_files([tmp_path / "a", tmp_path / "sub" / ".." / "a.txt"])
    assert len(found) == 1 and len(problems) == 1


def test_hidden_files_and_folders_are_reported_not_dropped(tmp_path):
    (tmp_path / "good.txt").write_bytes(PLAN.read_bytes())
    (tmp_path / ".x.txt").write_bytes(PLAN.read_bytes())
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "a.txt").write_bytes(b"x")
    texts, report = read_texts(tmp_path)
    assert [t.source_file for t in texts] == ["good.txt"]
    rows = dict(zip(report["source_file"], report["reason"]))
    assert rows[".x.txt"] == "skipped: hidden (its name starts with '.')"
    assert rows[".git"] == "skipped: hidden (its name starts with '.'); a folder, not searched"
    assert ".git/a.txt" not in rows  # the hidden folder is one line, not one per file in it


def test_a_folder_of_hidden_files_only_says_so(tmp_path):
    (tmp_path / ".x.txt").write_bytes(PLAN.read_bytes())
    found, problems = find_files(tmp_path)
    assert found == [] and problems == [(".x.txt", "skipped: hidden (its name starts with '.')")]


def test_linked_folders_are_searched_once_and_a_loop_is_reported(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.txt").write_bytes(PLAN.read_bytes())
    top = tmp_path / "top"
    top.mkdir()
    (top / "linked").symlink_to(real, target_is_directory=True)
    (real / "loop").symlink_to(real, target_is_directory=True)
    found, problems = find_files(top)
    assert [s for _, s in found] == ["linked/a.txt"]
    assert problems == [("linked/loop", f"skipped: a link to a folder already searched ({os.path.realpath(real)})")]


def test_an_empty_path_is_refused_not_read_as_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_bytes(PLAN.read_bytes())
    monkeypatch.chdir(tmp_path)
    found, problems = find_files([""])
    assert found == []
    assert problems == [("''", "not found: an empty path (an unset variable?); give a file or folder")]


def _docx(xml: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", xml)
    return buf.getvalue()


@pytest.mark.parametrize("data, says", [
    (_docx("<w:document><unclosed>"), "its word/document.xml is not well-formed XML"),
    (_docx("<a/>")[:-30], "a damaged or encrypted ZIP"),
])
def test_a_damaged_docx_is_skipped_with_one_line_and_the_rest_loads(tmp_path, data, says):
    (tmp_path / "bad.docx").write_bytes(data)
    (tmp_path / "good.txt").write_bytes(PLAN.read_bytes())
    for engine in ("serial", "process"):
        corpus = load_corpus(tmp_path, cache=False, progress=False, engine=engine, workers=2)
        assert set(corpus.documents["source_file"]) == {"good.txt"}
        reason = _reasons(corpus)["bad.docx"]
        assert reason.startswith("not a readable .docx") and says in reason, reason
    texts, report = read_texts(tmp_path)
    assert [t.source_file for t in texts] == ["good.txt"]


def test_utf8_with_a_few_damaged_bytes_loads_with_them_replaced_and_said():
    text = PLAN.read_text(encoding="utf-8")
    data = text.encode("utf-8")
    cut = data.index("工作计划".encode("utf-8"))
    damaged = data[:cut] + b"\xff" + data[cut:]
    decoded, enc, note = decode_bytes(damaged)
    assert (enc, decoded) == ("utf-8", text[:len(data[:cut].decode("utf-8"))] + "\ufffd" + text[len(data[:cut].decode("utf-8")):])
    assert note == f"1 invalid UTF-8 byte sequence(s) replaced by U+FFFD (the first at byte {cut})"


@pytest.mark.parametrize("text", [
    "铁西街道2024年工作计划\n规上工业总产值计划增长24%。\n" * 40,       # Chinese throughout
    "Annual report 2024, figures in the annex. " * 60 + "工作计划",     # one Chinese word in English
])
def test_gb18030_is_never_taken_for_damaged_utf8(text):
    assert decode_bytes(text.encode("gb18030")) == (text, "gb18030", "")


def test_utf8_damaged_throughout_is_still_refused():
    data = bytearray(("铁西街道2024年工作计划。" * 50).encode("utf-8"))
    for i in range(5, len(data), 97):
        data[i] = 0xFF
    with pytest.raises(ValueError, match="undecodable"):
        decode_bytes(bytes(data))


def test_a_lexicon_table_not_found_or_a_folder_says_which(tmp_path, monkeypatch):
    from plan_analysis.lexicons import LexiconError, lexicon_dir, read_table

    monkeypatch.chdir(tmp_path)
    with pytest.raises(LexiconError) as err:
        read_table("nope.tsv", columns={"term": "str"})
    assert str(err.value).startswith(f"nope.tsv:0: no such file here, nor a lexicon of that name in {lexicon_dir()}")
    with pytest.raises(LexiconError, match=r":0: is a folder; give the path of a UTF-8 TSV file"):
        read_table(tmp_path, columns={"term": "str"})


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_mark_is_not_read_as_utf8_when_its_ascii_makes_valid_utf8(encoding):
    text = "一、2024年"  # every byte pair valid UTF-8 (with NULs): read as UTF-8 before
    assert decode_bytes(text.encode(encoding)) == (text, encoding, "")


def test_utf8_with_a_stray_nul_stays_utf8():
    data = b"ab\x00c" + "annual report of the town ".encode() * 3
    assert decode_bytes(data) == (data.decode("utf-8"), "utf-8", "")


def test_a_pipe_in_the_folder_is_reported_not_read(tmp_path):
    (tmp_path / "good.txt").write_bytes(PLAN.read_bytes())
    os.mkfifo(tmp_path / "pipe.txt")  # reading it would wait for a writer for ever
    found, problems = find_files(tmp_path)
    assert [s for _, s in found] == ["good.txt"]
    assert problems == [("pipe.txt", "skipped: not a regular file (a pipe, socket or device)")]
