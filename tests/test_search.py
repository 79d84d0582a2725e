"""Keyword search on the seed sample and ../shared data: exact-phrase recall against a plain
substring scan of the store (the ground truth), ranking, filters, scope, folding, errors."""

from __future__ import annotations

import pytest
from conftest import SAMPLE, shared_path

from corpus.errors import IndexLocked, QueryError
from corpus.ingest import ingest_paths
from corpus.settings import Settings
from corpus.store import Store
from indexer.analysis import fold, sentence_bounds
from indexer.api import SearchRequest
from indexer.keyword import build_index
from indexer.search import iter_hits, search, substring_scan


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Settings:
    s = Settings(data_dir=tmp_path_factory.mktemp("seed") / "data", semantic=False)
    summary = ingest_paths(s, [SAMPLE])
    assert summary.documents_added >= 5
    build_index(s)
    return s


def all_hits(settings, query, **kw) -> list:
    return list(iter_hits(settings, SearchRequest(query=query, fold=kw.pop("fold", False), **kw)))


def exact_ids(hits, phrase) -> set[int]:
    return {h.paragraph_id for h in hits if fold(phrase) in fold(h.text)}


@pytest.mark.parametrize("phrase", ["要素保障", "双招双引", "三区同建", "项目", "化要素", "廉", "素保"])
def test_exact_phrase_recall_equals_substring_scan(seeded, phrase):
    truth = substring_scan(seeded, phrase)
    assert truth, f"seed corpus should contain {phrase}"
    quoted = {h.paragraph_id for h in all_hits(seeded, f'"{phrase}"')}
    assert quoted == truth
    unquoted = all_hits(seeded, phrase)
    assert exact_ids(unquoted, phrase) == truth


def test_phrase_hits_are_highlighted_whole(seeded):
    for h in all_hits(seeded, '"要素保障"'):
        assert h.spans
        assert all(h.text[s.start:s.end] == "要素保障" for s in h.spans)
        assert len(h.spans) == h.text.count("要素保障")
        for s in h.snippet_spans:
            assert h.snippet[s.start:s.end] == "要素保障"


def test_literal_list_holds_the_phrase_only_and_scattered_words_are_related(seeded):
    """要素保障 unquoted: the main list is the paragraphs holding 要素保障 (the count a drafter sees is
    the substring truth); paragraphs saying 要素 ... 保障 apart are a labelled partial match, apart."""
    truth = substring_scan(seeded, "要素保障")
    r = search(seeded, SearchRequest(query="要素保障", fold=False, per_page=50))
    assert r.total == len(truth) and {h.paragraph_id for h in r.hits} == truth
    assert r.related, "seed corpus has paragraphs with 要素 and 保障 apart"
    for h in r.related:
        assert h.paragraph_id not in truth and h.relation == "partial"
        assert "要素" in h.text and "保障" in h.text
        assert all(h.snippet[s.start:s.end] in ("要素", "保障") for s in h.snippet_spans)
    assert not ({h.paragraph_id for h in r.related} & {h.paragraph_id for h in r.hits})


def test_quoted_phrases_and_single_characters_get_no_related_list_unless_asked(seeded):
    assert not search(seeded, SearchRequest(query='"要素保障"')).related
    assert not search(seeded, SearchRequest(query="廉")).related
    asked = search(seeded, SearchRequest(query='"要素保障"', related=True))
    assert asked.related is not None and asked.total == len(substring_scan(seeded, "要素保障"))
    assert not search(seeded, SearchRequest(query="要素保障", related=False)).related


def test_words_written_together_rank_first(seeded):
    hits = all_hits(seeded, "重点 项目")
    together = [h.rank for h in hits if "重点项目" in h.text]
    apart = [h.rank for h in hits if "重点项目" not in h.text]
    assert together and apart
    assert max(together) < min(apart)


def test_exclude(seeded):
    hits = all_hits(seeded, "\"乡村振兴\" -三区同建")
    ids = {h.paragraph_id for h in hits}
    assert ids == substring_scan(seeded, "乡村振兴") - substring_scan(seeded, "三区同建")
    assert all("三区同建" not in h.text for h in hits)


def test_or(seeded):
    ids = {h.paragraph_id for h in all_hits(seeded, '"双招双引" OR "三区同建"')}
    assert ids == substring_scan(seeded, "双招双引") | substring_scan(seeded, "三区同建")


def test_year_filter(seeded):
    store = Store(seeded.db_path, readonly=True)
    years = {d["id"]: d["year"] for d in store.iter_documents()}
    dated = {y for y in years.values() if y}
    assert dated, "the sample has at least one dated document"
    year = max(dated)
    truth = {pid for pid in substring_scan(seeded, "项目")
             if years[store.get_paragraph(pid)["doc_id"]] == year}
    for q, kw in ((f'"项目" year:{year}', {}), ('"项目"', {"filters": {"year": str(year)}}),
                  (f'"项目" year:{year - 1}..{year}', {})):
        hits = all_hits(seeded, q, **kw)
        assert {h.paragraph_id for h in hits} == truth
        assert all(h.year == year for h in hits)
    assert all_hits(seeded, '"项目" year:1990') == []


def test_same_sentence_scope(seeded):
    para = {h.paragraph_id for h in all_hits(seeded, '"项目" "资金"')}
    sent_hits = all_hits(seeded, '"项目" "资金"', scope="sentence")
    sent = {h.paragraph_id for h in sent_hits}
    assert sent and sent < para
    for h in sent_hits:
        assert any("项目" in h.text[s:e] and "资金" in h.text[s:e] for s, e in sentence_bounds(h.text))
    for pid in para - sent:
        text = Store(seeded.db_path, readonly=True).get_paragraph(pid)["text"]
        assert not any("项目" in text[s:e] and "资金" in text[s:e] for s, e in sentence_bounds(text))


def test_result_fields_facets_and_pages(seeded):
    r = search(seeded, SearchRequest(query="项目", per_page=5))
    assert r.total > 5 and len(r.hits) == 5 and r.pages == -(-r.total // 5)
    r2 = search(seeded, SearchRequest(query="项目", per_page=5, page=2))
    assert [h.rank for h in r2.hits] == [6, 7, 8, 9, 10]
    assert not {h.paragraph_id for h in r.hits} & {h.paragraph_id for h in r2.hits}
    h = r.hits[0]
    assert h.title and h.text and h.snippet and h.spans
    assert sum(n for _, n in r.facets["type"]) <= r.total
    assert r.terms == ["项目"]
    d = r.to_json()
    assert d["total"] == r.total and d["hits"][0]["spans"]


def test_long_paragraph_snippet_holds_the_hit(seeded):
    hits = [h for h in all_hits(seeded, "要素保障") if len(h.text) > 300]
    assert hits
    for h in hits:
        assert len(h.snippet) < len(h.text)
        assert h.snippet_spans
        s = h.snippet_spans[0]
        assert "要素" in h.snippet[s.start:s.end] or "保障" in h.snippet[s.start:s.end]


@pytest.mark.parametrize("query", ['"要素保障', "foo:bar", "-要素保障", "OR 要素", "year:20x3 项目", "", "  ", "。，"])
def test_malformed_queries_raise_query_error(seeded, query):
    with pytest.raises(QueryError):
        search(seeded, SearchRequest(query=query))


def test_over_long_query(seeded):
    with pytest.raises(QueryError, match="too long"):
        search(seeded, SearchRequest(query="项目" * (seeded.max_query_chars // 2 + 1)))


def test_semantic_mode_without_embeddings_falls_back_with_notice(seeded):
    r = search(seeded, SearchRequest(query="要素保障", mode="hybrid"))
    assert r.mode == "keyword" and r.notice and r.total > 0


# --- a corpus built by hand: reposts, traditional text, incremental updates, locking ------------

def _doc(title, paras, **kw):
    from corpus.models import Document, Paragraph

    return Document(title=title, paragraphs=[Paragraph(p) for p in paras], **kw)


def _add(store: Store, doc, key: str) -> int:
    from corpus.dedup import cluster_document

    with store.transaction():
        raw = store.add_raw(sha256=key, path=key, format="text", encoding="utf-8", raw=doc.text, meta={})
        doc_id = store.add_document(doc, raw_id=raw, part_index=0, content_hash=key, file_path=key)
        cluster_document(store, doc_id, doc.text)
    return doc_id


REPOST = "要坚持要素保障跟着项目走，强化土地、资金、人才等要素保障，确保重点项目早开工、早投产、早见效。"


def test_reposts_fold_into_one_hit_with_copies(settings):
    store = Store(settings.db_path)
    a = _add(store, _doc("在全市项目推进会上的讲话", [REPOST, "其他内容。"], site="甲网", date="2023-03-01", unit="xx市"), "a")
    b = _add(store, _doc("项目推进会讲话（转载）", [REPOST, "另一段。"], site="乙网", date="2023-03-02"), "b")
    c = _add(store, _doc("又一转载", [REPOST], site="丙网", date="2024-01-01"), "c")
    build_index(settings)
    r = search(settings, SearchRequest(query="要素保障跟着项目走"))
    assert r.total == 1
    hit = r.hits[0]
    assert hit.copy_count == 2
    assert {cp.doc_id for cp in hit.copies} | {hit.doc_id} == {a, b, c}
    assert {cp.site for cp in hit.copies} | {hit.site} == {"甲网", "乙网", "丙网"}
    unfolded = search(settings, SearchRequest(query="要素保障跟着项目走", fold=False))
    assert unfolded.total == 3
    # ties broken by newer date
    assert unfolded.hits[0].date == "2024-01-01"


def test_traditional_text_found_by_simplified_query(settings):
    store = Store(settings.db_path)
    _add(store, _doc("優化營商環境大會講話", ["持續優化營商環境，推動經濟高質量發展。"]), "t")
    build_index(settings)
    hits = search(settings, SearchRequest(query="营商环境")).hits
    assert len(hits) == 1
    h = hits[0]
    assert h.text[h.spans[0].start:h.spans[0].end] == "營商環境"


def test_incremental_update_adds_changes_and_deletes(settings):
    store = Store(settings.db_path)
    a = _add(store, _doc("甲", ["推进双招双引工作。"]), "a")
    first = build_index(settings)
    assert first.mode == "build" and first.paragraphs_total == 1
    again = build_index(settings)
    assert again.mode == "unchanged" and again.paragraphs_indexed == 0
    assert search(settings, SearchRequest(query="双招双引")).total == 1

    b = _add(store, _doc("乙", ["双招双引要抓实。", "三区同建。"]), "b")
    up = build_index(settings)
    assert up.mode == "update" and up.documents_added == 1 and up.paragraphs_indexed == 2
    assert search(settings, SearchRequest(query="双招双引")).total == 2

    with store.transaction():
        store.replace_document(a, _doc("甲", ["改为三区同建。"]), content_hash="a2")
    up = build_index(settings)
    assert up.documents_changed == 1
    assert search(settings, SearchRequest(query="双招双引")).total == 1
    assert search(settings, SearchRequest(query="三区同建")).total == 2

    with store.transaction():
        store.delete_document(b)
    up = build_index(settings)
    assert up.documents_deleted == 1
    assert search(settings, SearchRequest(query="双招双引")).total == 0
    assert search(settings, SearchRequest(query="三区同建")).total == 1


def test_dictionary_change_rebuilds(settings, tmp_path):
    store = Store(settings.db_path)
    _add(store, _doc("甲", ["推进飞地抱团发展。"]), "a")
    build_index(settings)
    user = tmp_path / "user.txt"
    user.write_text("飞地抱团\n", encoding="utf-8")
    s2 = Settings(data_dir=settings.data_dir, semantic=False, user_dict=user)
    r = build_index(s2)
    assert r.mode == "rebuild" and "dictionary" in r.reason
    assert search(s2, SearchRequest(query="飞地抱团")).total == 1


def test_second_writer_fails_with_index_locked(settings):
    from filelock import FileLock

    Store(settings.db_path)
    fast = Settings(data_dir=settings.data_dir, semantic=False, lock_timeout=0.2)
    held = FileLock(str(settings.data_dir / "index.lock"))
    held.acquire()
    try:
        with pytest.raises(IndexLocked, match="another"):
            build_index(fast)
    finally:
        held.release()
    assert build_index(fast).mode == "build"


def test_search_before_index_says_what_to_do(settings):
    from corpus.errors import IndexMissing

    Store(settings.db_path)
    with pytest.raises(IndexMissing, match="corpus index"):
        search(settings, SearchRequest(query="项目"))


# --- ../shared data ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def speeches(tmp_path_factory) -> Settings:
    src = shared_path("data", "text", "speeches-jhsjk")
    s = Settings(data_dir=tmp_path_factory.mktemp("jhsjk") / "data", semantic=False)
    ingest_paths(s, [src])
    build_index(s)
    return s


@pytest.mark.parametrize("phrase", ["高质量发展", "脱贫攻坚", "疫情防控", "人类命运共同体", "党", "动高质"])
def test_shared_speeches_exact_phrase_recall(speeches, phrase):
    truth = substring_scan(speeches, phrase)
    assert truth
    assert {h.paragraph_id for h in all_hits(speeches, f'"{phrase}"')} == truth


def test_shared_speeches_same_sentence_and_ranking(speeches):
    hits = all_hits(speeches, "脱贫攻坚 全面小康", scope="sentence")
    assert hits
    for h in hits:
        f = fold(h.text)
        assert any(("脱贫攻坚" in f[s:e] or all(w in f[s:e] for w in ("脱贫", "攻坚")))
                   and ("全面小康" in f[s:e] or all(w in f[s:e] for w in ("全面", "小康")))
                   for s, e in sentence_bounds(f))
    ranked = all_hits(speeches, "疫情 防控")
    together = [h.rank for h in ranked if "疫情防控" in h.text]
    apart = [h.rank for h in ranked if "疫情防控" not in h.text]
    assert together and apart and max(together) < min(apart)
