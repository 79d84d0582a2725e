"""Ingest: formats, encodings, idempotence, duplicates, bad input, atomicity, reclean."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from corpus.ingest import ingest_paths, reclean
from corpus.readers import normalise_date, read_path
from corpus.store import Store

SPEECH = (
    "在全县项目建设推进会上的讲话\n同志们：\n今天召开这次会议，主要是推动项目建设取得实效。\n"
    "一、提高政治站位\n要强化要素保障，土地、资金、用工等要素跟着项目走。\n同志们，让我们共同努力！\n"
)


def counts(settings):
    s = Store(settings.db_path).stats()
    return s["documents"], s["paragraphs"], s["raw_sources"]


def test_sample_ingests_and_reingest_adds_nothing(settings, sample_dir):
    first = ingest_paths(settings, [sample_dir])
    assert first.ok, first.failed
    assert first.documents_added >= 5
    before = counts(settings)
    second = ingest_paths(settings, [sample_dir])
    assert second.documents_added == 0 and second.unchanged == first.records
    assert counts(settings) == before


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb2312", "gb18030"])
def test_encodings_are_detected(settings, tmp_path, encoding):
    f = tmp_path / f"speech-{encoding}.txt"
    f.write_bytes(SPEECH.encode(encoding))
    summary = ingest_paths(settings, [f])
    assert summary.ok, summary.failed
    store = Store(settings.db_path)
    texts = [p["text"] for d in store.iter_documents() for p in store.get_paragraphs(d["id"])]
    assert any("要素跟着项目走" in t for t in texts)


def test_same_text_under_another_name_is_the_same_document(settings, tmp_path):
    (tmp_path / "a.txt").write_text(SPEECH, encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(SPEECH.replace("\n", "\r\n").encode("gbk"))  # other bytes, same text
    summary = ingest_paths(settings, [tmp_path / "a.txt", tmp_path / "b.txt"])
    assert summary.documents_added == 1 and summary.duplicates == 1
    store = Store(settings.db_path)
    (doc,) = list(store.iter_documents())
    assert len(store.get_document(doc["id"])["sources"]) == 2


def test_bad_inputs_fail_one_line_each_and_the_rest_goes_on(settings, tmp_path, sample_dir):
    ingest_paths(settings, [sample_dir])
    before = counts(settings)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (bad / "empty.txt").write_bytes(b"")
    (bad / "blank.md").write_text("  \n\n ", encoding="utf-8")
    (bad / "fake.docx").write_bytes(b"this is not a zip archive")
    with zipfile.ZipFile(bad / "zip-not-word.docx", "w") as z:
        z.writestr("hello.txt", "hi")
    (bad / "records.jsonl").write_text(
        json.dumps({"title": "好记录", "text": SPEECH}, ensure_ascii=False) + "\n{not json\n" + json.dumps({"title": "无正文"}) + "\n",
        encoding="utf-8",
    )
    (bad / "good.txt").write_text(SPEECH.replace("县", "区"), encoding="utf-8")
    big = bad / "huge.txt"
    with big.open("wb") as f:
        f.seek(50 * 1024 * 1024)
        f.write(b"x")
    summary = ingest_paths(settings, [bad])
    reasons = "\n".join(r for _p, r in summary.failed)
    assert "binary.txt: binary file" in reasons
    assert "empty.txt: empty file" in reasons
    assert "blank.md: empty file" in reasons
    assert "fake.docx: not a .docx file" in reasons
    assert "zip-not-word.docx: cannot read .docx" in reasons
    assert "records.jsonl#2: not valid JSON" in reasons
    assert "records.jsonl#3: no text field" in reasons
    assert "huge.txt: file too large (50.0 MB" in reasons
    assert all("\n" not in r for _p, r in summary.failed)
    assert summary.documents_added == 2  # good.txt and the good JSONL record
    docs, paras, raws = counts(settings)
    assert docs == before[0] + 2 and raws == before[2] + 2


def test_cli_exit_status_and_one_line_errors(tmp_path):
    bad = tmp_path / "x.docx"
    bad.write_bytes(b"not a zip")
    good = tmp_path / "y.txt"
    good.write_text(SPEECH, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "corpus", "--data", str(tmp_path / "d"), "ingest", str(bad), str(good)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "x.docx: not a .docx file" in r.stderr and "Traceback" not in r.stderr
    assert "added 1 documents" in r.stdout


def test_crash_mid_document_leaves_store_as_before(settings, tmp_path, sample_dir, monkeypatch):
    ingest_paths(settings, [sample_dir / "001_1ca5b16502abce76.txt"])
    before = counts(settings)
    store = Store(settings.db_path)
    calls = {"n": 0}
    real = store._insert_paragraphs

    def crash_on_second(doc_id, paragraphs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated crash")
        return real(doc_id, paragraphs)

    monkeypatch.setattr(store, "_insert_paragraphs", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        ingest_paths(settings, [sample_dir / "000_fcf17ef3e8db5285.txt"], store=store)  # a compilation: several documents
    assert calls["n"] == 2
    assert counts(settings) == before
    monkeypatch.undo()
    assert ingest_paths(settings, [sample_dir / "000_fcf17ef3e8db5285.txt"]).documents_added >= 1


def test_docx_and_jsonl_are_read(settings, tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    for line in SPEECH.splitlines():
        d.add_paragraph(line)
    d.save(tmp_path / "speech.docx")
    (rec,) = read_path(tmp_path / "speech.docx", max_bytes=10**7)
    assert "要素跟着项目走" in rec.raw and rec.format == "docx"
    line = {"Policy Title": "Opinions", "Policy Content": SPEECH, "Release Time": 41507, "Policy Source": "http://x/1"}
    (tmp_path / "p.jsonl").write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    (rec,) = list(read_path(tmp_path / "p.jsonl", max_bytes=10**7))
    assert rec.meta["date"] == "2013-08-21" and rec.meta["url"] == "http://x/1"


def test_dates_normalise():
    assert normalise_date("2025/7/24 14:59:10") == "2025-07-24"
    assert normalise_date("2023年1月4日") == "2023-01-04"
    assert normalise_date(41507) == "2013-08-21"
    assert normalise_date("nonsense") is None


def test_reclean_keeps_ids_of_unchanged_documents(settings, sample_dir):
    ingest_paths(settings, [sample_dir])
    store = Store(settings.db_path)
    revs = store.doc_revisions()
    summary = reclean(settings, store=store)
    assert summary.raw_sources == 5 and not summary.failed
    assert summary.unchanged == len(revs) and store.doc_revisions() == revs


def test_jsonl_is_streamed_and_the_limit_applies_per_record(tmp_path):
    from corpus.settings import Settings

    settings = Settings(data_dir=tmp_path / "d", max_file_bytes=4000, semantic=False)
    f = tmp_path / "many.jsonl"
    with f.open("w", encoding="utf-8") as out:
        for i in range(20):  # the file is far larger than the limit; each record is not
            out.write(json.dumps({"title": f"讲话{i}", "text": SPEECH.replace("县", f"第{i}县")}, ensure_ascii=False) + "\n")
        out.write(json.dumps({"title": "太长", "text": "长" * 5000}, ensure_ascii=False) + "\n")
    assert f.stat().st_size > settings.max_file_bytes
    summary = ingest_paths(settings, [f])
    assert summary.documents_added == 20
    assert [r for _p, r in summary.failed] == [f"{f}#21: record too large (0.0 MB; the limit is 0 MB, set CORPUS_MAX_FILE_BYTES to raise it)"]
