"""Loading: encodings, bad inputs, and a load report that names every file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from plan_analysis.load import decode_bytes, read_texts

TEXT = "铁西街道2024年工作计划\n规上工业总产值前三季度计划增长24%；招商引资实际到位内资全年计划完成7亿元。\n"


def _report(tmp_path: Path) -> dict[str, tuple[str, str, str]]:
    texts, report = read_texts(tmp_path)
    return {r.source_file: (r.status, r.encoding, r.reason) for r in report.itertuples()}


@pytest.mark.parametrize("encoding, expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030"),
    ("utf-16", "utf-16"), ("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be"),
])
def test_encodings_are_detected(encoding, expected):
    text, enc, note = decode_bytes(TEXT.encode(encoding))
    assert (text, enc, note) == (TEXT, expected, "")


def test_bad_inputs_each_get_one_clear_line(tmp_path):
    (tmp_path / "good.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "gb.txt").write_bytes(TEXT.encode("gb18030"))
    (tmp_path / "crlf.txt").write_bytes(TEXT.replace("\n", "\r\n").encode("utf-8"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b" \n\t\n")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (tmp_path / "truncated.txt").write_bytes(TEXT.encode("utf-8") + "计".encode("utf-8")[:2])
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 \xe0 la cr\xe8me, \xfc\xfc\xfc \xff\xfe\xfd".encode("latin-1"))
    (tmp_path / "计划 空格 名.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04rest")
    rep = _report(tmp_path)
    assert rep["good.txt"][:2] == ("loaded", "utf-8")
    assert rep["gb.txt"][:2] == ("loaded", "gb18030")
    assert rep["crlf.txt"][:2] == ("loaded", "utf-8")
    assert rep["计划 空格 名.txt"][:2] == ("loaded", "utf-8")
    assert rep["empty.txt"] == ("skipped", "", "empty file")
    assert rep["blank.txt"] == ("skipped", "", "file holds only whitespace")
    assert rep["binary.txt"][0] == "skipped" and "binary" in rep["binary.txt"][2]
    assert rep["image.txt"][0] == "skipped" and "PNG" in rep["image.txt"][2]
    assert rep["truncated.txt"][0] == "loaded" and "truncated" in rep["truncated.txt"][2]
    assert rep["latin1.txt"][0] == "skipped" and "undecodable" in rep["latin1.txt"][2]
    assert rep["notes.docx"][0] == "skipped" and ".docx" in rep["notes.docx"][2]
    assert len(rep) == 11  # nothing silently left out


def test_unreadable_file(tmp_path, deny_reading):
    f = tmp_path / "locked.txt"
    f.write_text(TEXT, encoding="utf-8")
    (tmp_path / "ok.txt").write_text(TEXT, encoding="utf-8")
    deny_reading("locked.txt")
    rep = _report(tmp_path)
    assert rep["locked.txt"] == ("skipped", "", "unreadable: permission denied")
    assert rep["ok.txt"][0] == "loaded"


def test_unreadable_file_via_folder_as_file(tmp_path):
    (tmp_path / "folder.txt").mkdir()
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    texts, report = read_texts([tmp_path / "folder.txt", tmp_path / "a.txt", tmp_path / "missing.txt"])
    reasons = dict(zip(report["source_file"], report["reason"]))
    assert reasons[str(tmp_path / "folder.txt")].startswith("empty folder")
    assert "not found" in reasons[str(tmp_path / "missing.txt")]
    assert [t.source_file for t in texts] == ["a.txt"]


def test_large_file_loads(tmp_path):
    big = tmp_path / "big.txt"
    line = TEXT.encode("utf-8")
    with big.open("wb") as fh:
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            fh.write(line)
    texts, report = read_texts(big)
    assert report["status"].tolist() == ["loaded"] and texts[0].n_bytes >= 50 * 1024 * 1024


def test_cli_reports_bad_files_on_stderr_and_still_prints(tmp_path):
    (tmp_path / "good.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    out = subprocess.run([sys.executable, "-m", "plan_analysis", "documents", str(tmp_path), "--format", "csv",
                          "--no-cache"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "empty.txt: empty file" in out.stderr
    assert out.stderr.count("empty.txt") == 1, out.stderr  # the load report's line, not the loader's log too
    assert out.stdout.splitlines()[0].startswith("doc_id,source_file,title,place")
    assert "good.txt" in out.stdout


def test_cli_fails_clearly_when_nothing_loads(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    out = subprocess.run([sys.executable, "-m", "plan_analysis", "documents", str(tmp_path), "--no-cache"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert "empty.txt: empty file" in out.stderr and "no document could be loaded" in out.stderr


@pytest.mark.parametrize("cache", [False, True])
def test_log_files_false_leaves_file_problems_to_the_load_report(tmp_path, monkeypatch, caplog, cache):
    import logging

    from plan_analysis.corpus import load_corpus

    monkeypatch.setenv("PLAN_ANALYSIS_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "空的.txt").write_bytes(b"")
    (folder / "ok.txt").write_text("甲镇2024年工作计划\n一、发展经济\n地区生产总值增长6%。", encoding="utf-8")
    for log_files in (True, False, True, False):  # with the cache, the second pair comes from the snapshot
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="plan_analysis"):
            c = load_corpus(folder, cache=cache, progress=False, log_files=log_files)
        said = [r.getMessage() for r in caplog.records if "空的.txt" in r.getMessage()]
        assert c.load_report.set_index("source_file").loc["空的.txt", "status"] == "skipped"
        assert said if log_files else not said, (log_files, said)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_cli_targets_printed_a_piece_at_a_time_are_the_whole_table(monkeypatch, capsys, fmt):
    import io

    import plan_analysis.targets as targets_mod
    from plan_analysis.cli import main
    from plan_analysis.corpus import load_corpus

    raw = Path(__file__).resolve().parent.parent / "data" / "raw"
    want = io.StringIO()
    table = targets_mod.extract_targets(load_corpus(raw, cache=False, progress=False))[list(targets_mod.TARGET_FIELDS)]
    if fmt == "csv":
        table.to_csv(want, index=False)
    else:
        want.write(table.to_json(orient="records", lines=True, force_ascii=False))
    import plan_analysis.parallel as parallel_mod

    plan = parallel_mod.plan_pieces
    monkeypatch.setattr(parallel_mod, "plan_pieces",  # pieces of 20,000 characters: many, even for the bundled corpus
                        lambda lengths, **kw: plan(lengths, **{**kw, "workers": 1, "serial_piece": 20_000}))
    pieces = []
    real = targets_mod.iter_targets

    def counted(*args, **kwargs):
        for part in real(*args, **kwargs):
            pieces.append(len(part))
            yield part

    monkeypatch.setattr(targets_mod, "iter_targets", counted)
    assert main(["targets", str(raw), "--no-cache", "--format", fmt]) == 0
    got = capsys.readouterr().out
    assert len(pieces) > 1  # printed as several pieces …
    assert got.rstrip("\n") == want.getvalue().rstrip("\n")  # … that make one table, with one header


@pytest.mark.parametrize("command, stage", [("targets", "iter_targets"), ("slogans", "extract_slogans"),
                                            ("documents", None)])
def test_cli_workers_and_cache_dir_reach_the_library(tmp_path, monkeypatch, capsys, command, stage):
    import plan_analysis.corpus as corpus_mod
    import plan_analysis.phrasing as phrasing_mod
    import plan_analysis.targets as targets_mod
    from plan_analysis.cli import main

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "甲镇.txt").write_text(TEXT + "持续推进“千万工程”。\n", encoding="utf-8")
    seen: dict[str, object] = {}
    for mod, name in ((corpus_mod, "load_corpus"), (targets_mod, "iter_targets"), (phrasing_mod, "extract_slogans")):
        real = getattr(mod, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            seen[_name] = kwargs
            return _real(*args, **kwargs)

        monkeypatch.setattr(mod, name, spy)
    assert main([command, str(tmp_path / "in"), "--workers", "1", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert "甲镇.txt" in capsys.readouterr().out
    assert seen["load_corpus"]["workers"] == 1 and seen["load_corpus"]["cache_dir"] == str(tmp_path / "cache")
    assert any((tmp_path / "cache").iterdir())  # the cache went where it was told
    if stage:
        assert seen[stage]["workers"] == 1


@pytest.mark.parametrize("value, says", [("0", "expected 1 or more, got 0"), ("-2", "expected 1 or more, got -2"),
                                         ("two", "expected a whole number, got 'two'")])
def test_cli_refuses_a_number_of_workers_that_means_nothing(value, says):
    out = subprocess.run([sys.executable, "-m", "plan_analysis", "targets", "data/raw", "--workers", value],
                         capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 2 and f"argument --workers: {says}" in out.stderr, out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize("argv, verbose", [
    (["documents", "x.txt"], False), (["-v", "documents", "x.txt"], True), (["documents", "x.txt", "-v"], True),
    (["report", "--verbose"], True), (["report"], False),
])
def test_verbose_works_before_or_after_the_command(argv, verbose):
    from plan_analysis.cli import build_parser

    assert build_parser().parse_args(argv).verbose is verbose


def test_a_report_folder_that_is_a_file_is_one_line(tmp_path, capsys):
    from plan_analysis.cli import main

    out = tmp_path / "reports"
    out.write_text("not a folder", encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    assert main(["report", "--out", str(out), "--notebooks", str(root / "notebooks"),
                 "--corpus", str(root / "data" / "raw")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"plan-analysis: output folder {out} is a file; give a folder (it is made if missing)"
    assert out.read_text(encoding="utf-8") == "not a folder"


def test_process_text_given_a_string_says_what_it_takes():
    from plan_analysis.corpus import process_text

    with pytest.raises(TypeError, match=r"process_text takes a RawText .* not str; for a text of your own, use texts_corpus"):
        process_text("铁西街道2024年工作计划")
