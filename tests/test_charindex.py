"""The numpy keyword index: exact substrings from the character postings (across jieba word
boundaries, single characters, traditional text), the old phrase rule for punctuation, same-
sentence checks against a brute-force reading, incremental deletes, generations swapped under an
open reader, crash leftovers, the Whoosh-format upgrade, and the tokeniser pool."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SAMPLE

from corpus.ingest import ingest_paths
from corpus.settings import Settings
from corpus.store import Store
from indexer.analysis import fold, sentence_bounds
from indexer.api import SearchRequest
from indexer.charindex import CharIndex, build_postings, fold_many, intersect_sorted
from indexer.keyword import build_index, open_view, read_manifest, tokenize
from indexer.search import iter_hits, search, substring_scan
from indexer.terms import get_tokenizer


def _doc(title, paras, **kw):
    from corpus.models import Document, Paragraph

    return Document(title=title, paragraphs=[Paragraph(p) for p in paras], **kw)


def _add(store: Store, doc, key: str) -> int:
    with store.transaction():
        raw = store.add_raw(sha256=key, path=key, format="text", encoding="utf-8", raw=doc.text, meta={})
        return store.add_document(doc, raw_id=raw, part_index=0, content_hash=key, file_path=key)


def ids(settings, query, **kw) -> set[int]:
    return {h.paragraph_id for h in iter_hits(settings, SearchRequest(query=query, fold=False, **kw))}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Settings:
    s = Settings(data_dir=tmp_path_factory.mktemp("charidx") / "data", semantic=False)
    ingest_paths(s, [SAMPLE])
    build_index(s)
    return s


# --- building blocks ------------------------------------------------------------------------------

def test_fold_many_equals_fold_and_keeps_offsets():
    texts = ["優化營商環境，ＡＢＣ１２３", "", "要素保障\x00跟着项目走", "最后一段"]
    joined, toff = fold_many(texts)
    for i, t in enumerate(texts):
        got = joined[toff[i]:toff[i + 1] - 1]
        assert len(got) == len(t)
        assert got == fold(t).replace("\x00", " ")


def test_postings_with_empty_texts_at_both_ends():
    texts = ["", "要素保障", "", "保障有力", "", ""]
    joined, toff = fold_many(texts)
    p = build_postings(joined, toff)
    ci = CharIndex(joined, toff, p["alpha"], p["ckeys"], p["ckoff"], p["crows"], int(p["cbits"][0]))
    assert ci.rows_for("保障").tolist() == [1, 3]
    assert ci.rows_for("要").tolist() == [1]
    assert ci.rows_for("素保障").tolist() == [1]
    assert ci.rows_for("保障有").tolist() == [3]
    assert ci.rows_for("障保").tolist() == []
    assert [ci.row_text(i) for i in range(len(texts))] == texts


def test_intersect_sorted():
    a = np.array([1, 3, 5, 7, 9])
    b = np.array([3, 4, 5, 9, 20])
    c = np.array([0, 5, 9])
    assert intersect_sorted([a, b, c]).tolist() == [5, 9]
    assert intersect_sorted([a, np.array([], dtype=np.int64)]).tolist() == []


# --- exact matching -----------------------------------------------------------------------------

@pytest.mark.parametrize("phrase", ["素保障跟", "化要素", "项目走", "早投产、早见效", "廉", "保", "GDP", "2023"])
def test_phrases_across_word_boundaries_and_single_characters(settings, phrase):
    store = Store(settings.db_path)
    _add(store, _doc("甲", ["要坚持要素保障跟着项目走，强化要素保障，确保早开工、早投产、早见效。",
                          "廉洁自律，GDP增长 5%，2023年。", "无关的一段话。"]), "a")
    build_index(settings)
    truth = substring_scan(settings, phrase)
    assert truth
    assert ids(settings, f'"{phrase}"') == truth
    view = open_view(settings)
    rows = view.phrase_rows(fold(phrase))
    assert set(view.pid[rows].tolist()) == truth


def test_traditional_text_in_the_character_index(settings):
    store = Store(settings.db_path)
    _add(store, _doc("講話", ["持續優化營商環境，推動經濟高質量發展。"]), "t")
    _add(store, _doc("讲话", ["持续优化营商环境。"]), "s")
    build_index(settings)
    view = open_view(settings)
    assert len(view.phrase_rows(fold("营商环境"))) == 2
    assert len(view.phrase_rows(fold("營商環境"))) == 2
    hits = search(settings, SearchRequest(query="经济高质量", fold=False)).hits
    assert len(hits) == 1 and hits[0].text[hits[0].spans[0].start:hits[0].spans[0].end] == "經濟高質量"


def test_punctuated_phrase_keeps_the_old_run_rule(settings):
    """A phrase with punctuation matches its runs separated by any punctuation (as the bigram
    phrase query did), but not the runs written together."""
    store = Store(settings.db_path)
    _add(store, _doc("甲", ["强化要素，保障到位。", "要素；保障。", "要素保障。", "要素，其他保障。"]), "a")
    build_index(settings)
    got = {h.text for h in iter_hits(settings, SearchRequest(query='"要素，保障"', fold=False))}
    assert got == {"强化要素，保障到位。", "要素；保障。"}


@pytest.mark.parametrize("verify_rows", [3000, 0])  # 0: every candidate set takes the whole-text pass
def test_punctuated_phrase_never_spans_two_paragraphs(monkeypatch, verify_rows):
    """The runs of a punctuated phrase must be found inside one paragraph: one paragraph ending with
    要素 and the next starting with 保障 hold neither 要素，保障 (row-by-row or whole-text pass)."""
    from indexer import charindex

    monkeypatch.setattr(charindex, "VERIFY_ROWS", verify_rows)
    texts = ["前面一段讲到要素", "保障放在后面一段", "这里要素，保障写在一起", "只有要素", "保障在这"]
    joined, toff = fold_many(texts)
    p = build_postings(joined, toff)
    ci = CharIndex(joined, toff, p["alpha"], p["ckeys"], p["ckoff"], p["crows"], int(p["cbits"][0]))
    assert ci.rows_for(fold("要素，保障")).tolist() == [2]
    assert ci.rows_for(fold("要素保障")).tolist() == []


def test_phrase_recall_on_the_seeds_many_substrings(seeded):
    """Every 2..6 character substring taken from a few seed paragraphs: index == substring scan."""
    store = Store(seeded.db_path, readonly=True)
    texts = [r[0] for r in store.db.execute("SELECT text FROM paragraphs ORDER BY id LIMIT 40")]
    all_texts = [fold(t) for (t,) in store.db.execute("SELECT text FROM paragraphs")]
    view = open_view(seeded)
    checked = 0
    for t in texts:
        f = fold(t)
        for n in (1, 2, 3, 4, 6):
            for i in range(0, max(0, len(f) - n), 17):
                sub = f[i:i + n]
                if not sub.strip() or any(not ch.isalnum() for ch in sub):
                    continue
                truth = {j for j, x in enumerate(all_texts) if sub in x}
                assert len(view.phrase_rows(sub)) == len(truth), sub
                checked += 1
    assert checked > 100


# --- same sentence ------------------------------------------------------------------------------

def _brute_sentence(settings, query: str) -> set[int]:
    """The definition: some sentence of the paragraph holds every clause (one of its alternatives)
    exactly — checked over every paragraph of the store, not over the search's own candidates."""
    from indexer.query import parse

    q = parse(query)
    clauses = [[t.folded for t in c.alternatives] for c in q.clauses]
    store = Store(settings.db_path, readonly=True)
    out = set()
    for pid, text in store.iter_paragraph_texts():
        f = fold(text)
        for s, e in sentence_bounds(f):
            sent = f[s:e]
            if all(any(x in sent for x in alts) for alts in clauses):
                out.add(pid)
                break
    return out


@pytest.mark.parametrize("query", ["项目 资金", "要素 保障", '"项目" "建设"', "发展 OR 改革 企业", "招商 引资 项目",
                                   "要素保障 资金", "重点项目 资金", "乡村振兴 产业", "项目建设 资金",
                                   "高质量发展 企业", "营商环境 OR 招商引资 项目"])
def test_same_sentence_equals_brute_force(seeded, query):
    truth = _brute_sentence(seeded, query)
    assert ids(seeded, query, scope="sentence") == truth


# --- updates, generations, crashes -------------------------------------------------------------------

def test_incremental_delete_leaves_the_character_index(settings):
    store = Store(settings.db_path)
    a = _add(store, _doc("甲", ["推进双招双引工作。"]), "a")
    _add(store, _doc("乙", ["抓好三区同建。"]), "b")
    build_index(settings)
    assert len(open_view(settings).phrase_rows("双招双引")) == 1
    with store.transaction():
        store.delete_document(a)
    rep = build_index(settings)
    assert rep.mode == "update" and rep.documents_deleted == 1 and rep.paragraphs_indexed == 0
    view = open_view(settings)
    assert len(view.phrase_rows("双招双引")) == 0 and len(view.phrase_rows("招")) == 0
    assert len(view.rows_with_words(["三区同建"])) == 1
    assert search(settings, SearchRequest(query="双招双引")).total == 0
    assert search(settings, SearchRequest(query="三区同建")).total == 1


def test_update_reuses_tokens_and_matches_a_full_build(settings, tmp_path):
    store = Store(settings.db_path)
    _add(store, _doc("甲", ["推进双招双引工作，优化营商环境。"]), "a")
    build_index(settings)
    b = _add(store, _doc("乙", ["营商环境持续优化。", "要素保障跟着项目走。"]), "b")
    up = build_index(settings)
    assert up.mode == "update" and up.paragraphs_indexed == 2
    with store.transaction():
        store.replace_document(b, _doc("乙", ["要素保障跟着项目走。"]), content_hash="b2")
    build_index(settings)
    words_after_updates = _words_by_pid(settings)
    build_index(settings, rebuild=True)
    assert _words_by_pid(settings) == words_after_updates
    r = search(settings, SearchRequest(query="营商 环境", fold=False))
    assert r.total == 1


def _words_by_pid(settings) -> dict[int, list[str]]:
    d = settings.index_dir
    gen = read_manifest(d)["generation"]
    vocab = json.loads((d / f"{gen}.vocab.json").read_text(encoding="utf-8"))
    pid = np.load(d / f"{gen}.pid.npy")
    tok = np.load(d / f"{gen}.tok.npy")
    off = np.load(d / f"{gen}.tokoff.npy")
    return {int(p): [vocab[i] for i in tok[off[k]:off[k + 1]]] for k, p in enumerate(pid)}


def test_reader_opened_before_a_rebuild_keeps_working(settings):
    store = Store(settings.db_path)
    _add(store, _doc("甲", ["要素保障跟着项目走。", "项目建设要提速。"]), "a")
    build_index(settings)
    old = open_view(settings)
    old_gen = old.generation
    _add(store, _doc("乙", ["另一个项目。"]), "b")
    build_index(settings, rebuild=True)
    assert not list(settings.index_dir.glob(f"{old_gen}.*")), "the old generation's files are removed"
    # the old view still answers from its own (unlinked, mapped) files
    assert len(old.phrase_rows("项目")) == 2
    assert old.bm25(["项目"], old.phrase_rows("项目")).min() > 0
    new = open_view(settings)
    assert new.generation != old_gen and len(new.phrase_rows("项目")) == 3
    assert search(settings, SearchRequest(query="项目")).total == 3


def test_crash_leftovers_do_not_matter_and_are_removed(settings):
    store = Store(settings.db_path)
    _add(store, _doc("甲", ["推进双招双引工作。"]), "a")
    build_index(settings)
    d = settings.index_dir
    orphans = [d / "kwdeadbeefdeadbeef.pid.npy", d / ".kwdeadbeefdeadbeef.tok.npy.123.tmp"]
    for p in orphans:
        p.write_bytes(b"half written")
    assert search(settings, SearchRequest(query="双招双引")).total == 1
    _add(store, _doc("乙", ["双招双引要抓实。"]), "b")
    assert build_index(settings).mode == "update"
    assert not any(p.exists() for p in orphans)
    assert search(settings, SearchRequest(query="双招双引")).total == 2


def test_whoosh_format_index_is_rebuilt(settings):
    store = Store(settings.db_path)
    _add(store, _doc("甲", ["推进双招双引工作。"]), "a")
    d = settings.index_dir
    d.mkdir(parents=True)
    (d / "_paragraphs_1.toc").write_bytes(b"whoosh")
    (d / "manifest.json").write_text(json.dumps({"format": 1, "analyzer": "x", "dictionary": "1"}), encoding="utf-8")
    from corpus.errors import IndexMissing

    with pytest.raises(IndexMissing, match="corpus index"):
        search(settings, SearchRequest(query="双招双引"))
    rep = build_index(settings)
    assert rep.mode == "rebuild" and "format" in rep.reason
    assert not (d / "_paragraphs_1.toc").exists()
    assert search(settings, SearchRequest(query="双招双引")).total == 1


def test_tokeniser_pool_gives_the_same_index(tmp_path, monkeypatch):
    inline = Settings(data_dir=tmp_path / "a", semantic=False)
    pooled = Settings(data_dir=tmp_path / "b", semantic=False)
    ingest_paths(inline, [SAMPLE])
    ingest_paths(pooled, [SAMPLE])
    build_index(inline)
    monkeypatch.setattr(tokenize, "POOL_MIN", 1)
    monkeypatch.setattr(tokenize, "TOKENIZE_CHUNK", 7)
    monkeypatch.setattr(tokenize, "MAX_WORKERS", 2)
    monkeypatch.setattr(tokenize.os, "cpu_count", lambda: 2)
    build_index(pooled)
    a, b = _words_by_pid(inline), _words_by_pid(pooled)
    assert len(a) > 50 and list(a.values()) == list(b.values())
    for q in ("要素保障", "项目 资金", "廉"):
        ra = search(inline, SearchRequest(query=q, fold=False, per_page=50))
        rb = search(pooled, SearchRequest(query=q, fold=False, per_page=50))
        assert ra.total == rb.total and [h.text for h in ra.hits] == [h.text for h in rb.hits]


def test_searching_while_rebuilding_sees_a_whole_index(seeded):
    import threading

    want = search(seeded, SearchRequest(query="要素保障", fold=False)).total
    errors: list[BaseException] = []

    def rebuild():
        try:
            for _ in range(3):
                build_index(seeded, rebuild=True)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=rebuild)
    t.start()
    seen = 0
    while t.is_alive() or seen == 0:
        assert search(seeded, SearchRequest(query="要素保障", fold=False)).total == want
        seen += 1
    t.join()
    assert not errors
    assert search(seeded, SearchRequest(query="要素保障", fold=False)).total == want


def test_killed_build_leaves_a_searchable_index(tmp_path):
    """A build killed at some point (SIGKILL, wherever it is) leaves the previous index or the new
    one, never a broken one; the next build completes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    s = Settings(data_dir=tmp_path / "data", semantic=False)
    ingest_paths(s, [SAMPLE])
    build_index(s)
    before = search(s, SearchRequest(query="项目", fold=False)).total
    store = Store(s.db_path)
    _add(store, _doc("新增", ["新增一个项目段落。"]), "new")
    code = ("from corpus.settings import Settings; from indexer.keyword import build_index; "
            f"build_index(Settings(data_dir=__import__('pathlib').Path({str(s.data_dir)!r}), semantic=False), "
            "rebuild=True)")
    for delay in (0.3, 0.9, 1.5):
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=os.path.dirname(os.path.dirname(__file__)))
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert search(s, SearchRequest(query="项目", fold=False)).total in (before, before + 1)
    # the killed writer's lock is released with its process; leftovers are cleaned up
    assert build_index(s).mode in ("update", "unchanged")
    assert search(s, SearchRequest(query="项目", fold=False)).total == before + 1
    assert not list(s.index_dir.glob(".*.tmp"))


def test_bm25_equals_whoosh_scoring_of_the_same_words(seeded):
    """The word postings score as the Whoosh word field did (BM25F, one-byte field lengths), so
    ranking within a tier is unchanged by leaving Whoosh."""
    from whoosh import index as windex
    from whoosh.columns import NumericColumn
    from whoosh.fields import COLUMN, Schema
    from whoosh.query import Or, Term

    from indexer.analysis import word_terms
    from indexer.whoosh_compat import JiebaTokenizer, SeqText

    view = open_view(seeded)
    tk = get_tokenizer(seeded)
    d = seeded.data_dir / "whoosh-check"
    d.mkdir()
    ix = windex.create_in(str(d), Schema(row=COLUMN(NumericColumn("i")),
                                         content=SeqText(JiebaTokenizer(), phrase=False)))
    w = ix.writer()
    for row in range(view.n):
        w.add_document(row=row, content=word_terms(view.row_text(row), tk))
    w.commit()
    with ix.searcher() as s:
        rows_col = list(s.reader().column_reader("row"))
        for words in (["项目"], ["要素", "保障"], ["高质量", "发展", "项目"]):
            got = s.search(Or([Term("content", x) for x in words]), limit=None)
            theirs = {rows_col[dn]: sc for sc, dn in got.top_n}
            rows = np.array(sorted(theirs), dtype=np.int64)
            assert len(rows) > 3
            ours = view.bm25(words, rows)
            assert np.allclose(ours, [theirs[r] for r in rows.tolist()], rtol=1e-9)


def test_pattern_frames_never_span_two_paragraphs():
    """The 句式 scan's whole-text pass (many candidate rows) keeps only matches inside one row."""
    import re
    from types import SimpleNamespace

    from indexer.subcorpus import CorpusRows, find_in_rows

    texts = ["第一段以坚持结尾", "为核心开头的第二段", "坚持以人民为中心"]
    joined, toff = fold_many(texts)
    view = SimpleNamespace(chars=SimpleNamespace(text=joined, toff=toff))
    rows = CorpusRows(view=view, docs={}, arrays=None, docpos=np.zeros(3, dtype=np.int64),
                      year=np.zeros(3, dtype=np.int64), date_key=np.zeros(3, dtype=np.int64),
                      length=np.diff(toff) - 1, rep=np.ones(3, dtype=bool))
    pattern = re.compile("坚持.{0,6}?为")
    cand = np.arange(3)
    for above in (3000, 0):  # row by row, then one pass over the whole text
        rr, _ = find_in_rows(rows, pattern, cand, None, whole_text_above=above)
        assert rr.tolist() == [2], above
