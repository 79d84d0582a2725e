"""The shortcuts a fast command line takes give the answers of the long way round: the search's
document table (one query of plain rows, values folded in one pass), word ids looked up in the
word list before the dict is built, the character-set fold probe, word offsets measured for a
few rows alone (KWIC collocations), word frequencies of a sub-corpus."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE

from corpus.ingest import ingest_paths
from corpus.settings import Settings
from corpus.store import Store
from indexer import analysis
from indexer.generations import read_manifest
from indexer.keyword import IndexView, build_index, open_view


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Settings:
    s = Settings(data_dir=tmp_path_factory.mktemp("fast") / "data", semantic=False)
    assert ingest_paths(s, [SAMPLE]).documents_added >= 5
    build_index(s)
    return s


def test_document_table_holds_every_document_as_the_store_gives_it(seeded):
    from corpus.levels import unit_level
    from indexer.search.docs import doc_state

    store = Store(seeded.db_path, readonly=True)
    table, arrays = doc_state(store)
    stored = list(store.iter_documents())
    assert sorted(table) == [d["id"] for d in stored] == arrays.ids.tolist()
    for d in stored:
        info = table[d["id"]]
        assert (info.title, info.site, info.url, info.date, info.year, info.unit, info.doc_type) == (
            d["title"] or "", d["site"], d["url"], d["date"], d["year"], d["unit"], d["doc_type"])
        assert info.truncated is bool(d["truncated"])
        assert info.ftitle == analysis.fold(d["title"] or "")
        assert info.level == (d.get("level") or unit_level(d["unit"]))
    for key, attr in (("site", "site"), ("type", "doc_type"), ("unit", "unit")):
        assert arrays.values[key] == [analysis.fold(getattr(table[i], attr) or "") for i in arrays.ids.tolist()]
        groups = arrays.group(key)
        assert sorted(i for ix in groups.values() for i in ix.tolist()) == list(range(len(arrays.ids)))


def test_values_folded_together_equal_each_folded_alone():
    from indexer.charindex import fold_each as _fold_column

    values = ["國務院辦公廳", "", "ＡＢＣ　全角", "plain", "含\x00分隔", "Ｘ"]
    assert _fold_column(values) == [analysis.fold(v) for v in values]
    assert _fold_column(values[:4]) == [analysis.fold(v) for v in values[:4]]
    assert _fold_column([]) == []


def test_fold_probe_finds_every_folded_character():
    for cp in analysis._fold_table():
        c = chr(cp)
        assert analysis.fold(f"中{c}文") == "中" + chr(analysis._fold_table()[cp]) + "文"
    assert analysis.fold("已是简体") == "已是简体"


def test_word_ids_from_the_list_equal_the_dict(seeded):
    view = open_view(seeded)
    fresh = IndexView(seeded.index_dir, read_manifest(seeded.index_dir))
    probes = [*view.words[:5], view.words[-1], "不在词表里的词", ""]
    listed = [fresh.word_id(w) for w in probes]  # the first lookups scan the list
    assert "vocab" not in fresh.__dict__
    assert listed == [fresh.vocab.get(w) for w in probes]
    for w in view.words[:40]:  # past LIST_LOOKUPS the dict answers
        assert fresh.word_id(w) == view.vocab[w]


def test_word_offsets_of_a_few_rows_equal_the_whole_corpus_pass(seeded, monkeypatch):
    from indexer import subcorpus

    rows = subcorpus.corpus_rows(seeded)
    tok, tokoff, _ = subcorpus.tokens(seeded, rows)
    full_starts, full_lens = subcorpus.token_spans(seeded, rows)
    sel = np.arange(0, rows.n, 3, dtype=np.int64)
    subcorpus._span_cache.clear()
    monkeypatch.setattr(subcorpus, "SUBSET_SHARE", 1)  # the rows alone, however many
    starts, lens, local = subcorpus.token_spans_of(seeded, rows, sel)
    assert str(seeded.index_dir) not in subcorpus._span_cache  # the whole corpus was not measured
    idx = np.concatenate([np.arange(tokoff[r], tokoff[r + 1]) for r in sel.tolist()])
    assert starts.tolist() == full_starts[idx].tolist() and lens.tolist() == full_lens[idx].tolist()
    assert local.tolist() == np.concatenate([[0], np.cumsum([tokoff[r + 1] - tokoff[r] for r in sel])]).tolist()


def test_collocations_are_the_same_with_and_without_the_whole_corpus_offsets(seeded):
    from indexer import collocations, subcorpus

    phrases = ["发展", "高质量发展", "改革"]
    subcorpus._span_cache.clear()
    alone = [collocations.collocations(seeded, p, min_count=1) for p in phrases]
    subcorpus.token_spans(seeded, subcorpus.corpus_rows(seeded))  # now sliced from the whole pass
    collocations._freq_cache.clear()
    whole = [collocations.collocations(seeded, p, min_count=1) for p in phrases]
    assert [r.collocates for r in alone] == [r.collocates for r in whole]
    assert any(r.collocates for r in alone)


def test_sub_corpus_word_frequencies_count_the_words_of_its_rows(seeded):
    from indexer import collocations, subcorpus

    rows = subcorpus.corpus_rows(seeded)
    tok, tokoff, words = subcorpus.tokens(seeded, rows)
    mask = np.zeros(rows.n, dtype=bool)
    mask[::2] = True
    collocations._freq_cache.clear()
    freq = collocations._frequencies(rows, tok, tokoff, mask, ("test",), len(words))
    expect = np.zeros(len(words), dtype=np.int64)
    for r in np.flatnonzero(mask).tolist():
        np.add.at(expect, np.asarray(tok[tokoff[r]:tokoff[r + 1]], dtype=np.int64), 1)
    assert freq.tolist() == expect.tolist()


def test_a_pages_reposts_and_sections_in_one_query_equal_one_query_per_hit(seeded):
    store = Store(seeded.db_path, readonly=True)
    rows = [dict(r) for r in store.db.execute("SELECT id, doc_id, position, kind, cluster_id FROM paragraphs")]
    clusters = sorted({r["cluster_id"] for r in rows if r["cluster_id"] is not None})
    heads = [(r["doc_id"], r["position"]) for r in rows if r["kind"] == "heading"]
    assert clusters and heads
    many = store.cluster_members_of(clusters)
    assert many == {c: store.cluster_members(c) for c in clusters}
    two = store.cluster_members_of(clusters, limit=2)
    assert two == {c: store.cluster_members(c)[:2] for c in clusters}
    last = max(r["position"] for r in rows if r["doc_id"] == rows[-1]["doc_id"])
    heads.append((rows[-1]["doc_id"], last))  # nothing after the last paragraph
    assert store.section_bodies(heads) == {h: store.section_body(*h) for h in heads}
    assert store.section_bodies(heads, max_paragraphs=1) == {h: store.section_body(*h, max_paragraphs=1) for h in heads}
    assert store.cluster_members_of([]) == {} and store.section_bodies([]) == {}


def test_facets_and_title_boosts_from_the_arrays_equal_the_per_document_rules(seeded):
    from indexer.search.candidates import Cand
    from indexer.search.docs import doc_state, facets

    store = Store(seeded.db_path, readonly=True)
    table, arrays = doc_state(store)
    ids = sorted(table)
    cands = [Cand(pid=i, doc_id=d, cluster=i, score=0.0) for i, d in enumerate(ids * 3 + [10**9])]  # + one unknown
    assert facets(cands, table, arrays) == facets(cands, table)
    assert facets(cands[:1], table, arrays) == facets(cands[:1], table)
    assert facets([], table, arrays) == facets([], table)
    for terms in (["报告"], ["发展", "改革"], ["没有这个标题词"], [table[ids[0]].ftitle[-2:]]):
        want = [any(t in arrays.ftitle[p] for t in terms) for p in range(len(arrays.ids))]
        assert arrays.titles_with(terms).tolist() == want


def test_a_cached_concordance_is_copied_whole():
    import copy

    from indexer.kwic import KwicLine, KwicResult, _copy

    line = KwicLine(left="强化", match="要素保障", right="，推动", paragraph_id=1, doc_id=2, position=3, offset=4,
                    title="标题", unit=None, date="2024-01-01", site="s", copies=1)
    result = KwicResult(phrase="要素保障", lines=[line], total=1, paragraphs=1, left_collocates=[("强化要素保障", 1)],
                        right_collocates=[], width=20, sort="left", sampled=1, notice=None)
    got = _copy(result)
    assert got == copy.deepcopy(result)
    assert got.lines is not result.lines and got.lines[0] is not line
    got.lines[0].left = "changed"
    assert line.left == "强化"


def test_the_pattern_page_answers_within_the_request_budget_with_a_notice(seeded):
    import time

    from indexer import budget
    from indexer.pattern import pattern_search
    from webui import create_app

    full = pattern_search(seeded, "*的*")
    assert full.total and full.notice is None
    with budget.time_budget(1e-9):
        time.sleep(0.001)
        cut = pattern_search(seeded, "*的*")
    assert cut.notice == budget.NOTICE and cut.total < full.total
    assert pattern_search(seeded, "*的*").total == full.total  # outside a budget: complete again
    app = create_app(replace_budget(seeded, 1e-9))
    c = app.test_client()
    page = c.get("/pattern", query_string={"q": "*的*"})
    assert page.status_code == 200 and "data-notice" in page.get_data(as_text=True)
    api = c.get("/api/pattern", query_string={"q": "*的*"}).get_json()
    assert api["notice"] == budget.NOTICE and api["total"] < full.total
    export = c.get("/pattern/export", query_string={"q": "*的*", "fmt": "csv"})  # an export is complete
    assert export.status_code == 200


def replace_budget(settings, seconds):
    from dataclasses import replace

    return replace(settings, request_budget=seconds)
