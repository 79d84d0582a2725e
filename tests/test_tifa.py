"""The 提法 tools against brute force: per-year counts and first use equal a scan of every
paragraph, pattern fillers equal a regex scan, logDice and log-likelihood equal a reference
implementation on a small hand-made corpus, compare finds a phrase planted only in A's years.

Corpora: the seeds plus planted dated documents (always), and the government work reports of
../shared/data/text (skipped when ../shared is absent)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict

import pytest
from test_webui_support import hostile_and_repost_records

from corpus.errors import QueryError
from corpus.ingest import ingest_paths, sample_dir
from corpus.settings import Settings
from corpus.store import Store
from indexer.analysis import fold
from indexer.collocations import collocations, log_likelihood, scores
from indexer.compare import compare
from indexer.pattern import pattern_regex, pattern_search
from indexer.trend import trend
from indexer.update import update_indexes

PLANTED = "数智赋能新范式"

RECORDS = [
    {"title": "在全市项目建设推进会上的讲话", "date": "2021-03-02", "doc_type": "讲话", "site": "甲网", "unit": "xx市",
     "text": "以项目建设为抓手，推动高质量发展。\n坚持稳中求进不动摇，以改革为抓手。\n要推动高质量发展取得新成效。"},
    {"title": "在全县经济工作会议上的讲话", "date": "2022-01-10", "doc_type": "讲话", "site": "乙网", "unit": "xx县",
     "text": "坚持以人民为中心不动摇，推动高质量发展。\n以招商引资为抓手，以项目建设为抓手，高质量发展迈出新步伐。"},
    {"title": "2023年政府工作报告", "date": "2023-02-01", "doc_type": "工作报告", "site": "甲网", "unit": "xx市人民政府",
     "text": "一是稳增长二是调结构三是惠民生。\n推动高质量发展，坚持稳中求进不动摇。\n优化营商环境，推动高质量发展。"},
    {"title": "2023年区委全会讲话", "date": "2023-07-01", "doc_type": "讲话", "site": "乙网", "unit": "xx区",
     "text": "以党建为抓手，推动基层治理。\n我们要优化营商环境，抓好项目建设。"},
    {"title": "2024年政府工作报告", "date": "2024-02-01", "doc_type": "工作报告", "site": "甲网", "unit": "xx市人民政府",
     "text": f"以{PLANTED}为抓手，推动高质量发展。\n{PLANTED}是新质生产力的重要方向，要用好{PLANTED}。"},
    {"title": "2024年区政府工作报告", "date": "2024-03-01", "doc_type": "工作报告", "site": "丙网", "unit": "xx区人民政府",
     "text": f"要把{PLANTED}落到实处，发展新质生产力。\n以{PLANTED}为抓手，推动高质量发展。"},
    {"title": "2024年县委全会讲话", "date": "2024-05-01", "doc_type": "讲话", "site": "乙网", "unit": "xx县",
     "text": f"探索{PLANTED}，发展新质生产力，以科技创新为抓手。\n一是抓项目二是优环境三是强保障。\n"
             "外交部3日称，5日称，8日称，将继续推进合作。"},
]


def _ingest(settings: Settings, records: list[dict], with_sample: bool = True) -> Settings:
    extra = settings.data_dir.parent / "extra"
    extra.mkdir(parents=True, exist_ok=True)
    (extra / "planted.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n",
                                         encoding="utf-8")
    summary = ingest_paths(settings, ([sample_dir()] if with_sample else []) + [extra])
    assert summary.ok, summary.failed
    update_indexes(settings, semantic=False)
    return settings


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("tifa") / "data", semantic=False)
    return _ingest(settings, RECORDS + hostile_and_repost_records())


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    from conftest import shared_path

    src = shared_path("data", "text", "gov-work-reports")
    settings = Settings(data_dir=tmp_path_factory.mktemp("tifa-reports") / "data", semantic=False)
    summary = ingest_paths(settings, [src])
    assert summary.documents_added if hasattr(summary, "documents_added") else True
    update_indexes(settings, semantic=False)
    return settings


# --- brute force ------------------------------------------------------------------------------

def scan(settings: Settings, fold_reposts: bool = False) -> list[dict]:
    """Every paragraph with its document's fields and folded text, straight from SQLite; with
    `fold_reposts`, one paragraph per cluster: the earliest dated copy, then the lowest id."""
    st = Store(settings.db_path, readonly=True)
    out = [{"pid": r["id"], "doc": r["doc_id"], "text": fold(r["text"]), "year": r["year"], "date": r["date"],
            "type": r["doc_type"], "site": r["site"], "cluster": r["cluster_id"] or r["id"]}
           for r in st.iter_paragraph_rows()]
    st.close()
    if not fold_reposts:
        return out
    best: dict[int, dict] = {}
    for p in out:
        key = (p["date"] is None, p["date"] or "", p["pid"])
        cur = best.get(p["cluster"])
        if cur is None or key < (cur["date"] is None, cur["date"] or "", cur["pid"]):
            best[p["cluster"]] = p
    return sorted(best.values(), key=lambda p: p["pid"])


def scan_trend(paras: list[dict], phrase: str) -> dict:
    needle = fold(phrase)
    hits, docs, chars, undated = Counter(), defaultdict(set), Counter(), 0
    used = []
    for p in paras:
        if p["year"] is not None:
            chars[p["year"]] += len(p["text"])
        n = p["text"].count(needle)
        if not n:
            continue
        if p["year"] is None:
            undated += n
        else:
            hits[p["year"]] += n
            docs[p["year"]].add(p["doc"])
        used.append(p)
    dated = [p for p in used if p["date"]]
    first = min(dated, key=lambda p: (p["date"], p["pid"])) if dated else None
    return {"hits": hits, "docs": {y: len(v) for y, v in docs.items()}, "chars": chars, "undated": undated,
            "total": sum(p["text"].count(needle) for p in used), "first": first}


def check_trend(settings: Settings, phrase: str, fold_reposts: bool) -> None:
    paras = scan(settings, fold_reposts)
    want = scan_trend(paras, phrase)
    got = trend(settings, [phrase], fold=fold_reposts)
    s = got.series[0]
    assert s.hits == want["total"]
    assert s.undated_hits == want["undated"]
    for i, y in enumerate(got.years):
        yc = s.years[i]
        assert (yc.hits, yc.documents) == (want["hits"].get(y, 0), want["docs"].get(y, 0)), y
        assert got.corpus_chars[i] == want["chars"].get(y, 0)
        if want["chars"].get(y):
            assert yc.per_million == pytest.approx(want["hits"].get(y, 0) / want["chars"][y] * 1e6, abs=1e-3)
    assert set(want["hits"]) <= set(got.years)
    if want["first"] is None:
        assert s.first is None
    else:
        assert s.first["paragraph_id"] == want["first"]["pid"]
        assert s.first["date"] == want["first"]["date"]
        assert s.first_year == want["first"]["year"]


# --- trend --------------------------------------------------------------------------------------

@pytest.mark.parametrize("phrase", ["高质量发展", "要素保障", "项目建设", "新质生产力", PLANTED, "乡村振兴"])
@pytest.mark.parametrize("fold_reposts", [False, True])
def test_trend_equals_a_scan_on_the_seeds(seeded, phrase, fold_reposts):
    check_trend(seeded, phrase, fold_reposts)


def test_trend_first_use_breakdown_and_several_phrases(seeded):
    r = trend(seeded, "高质量发展 新质生产力", filters={"type": "工作报告"})
    assert r.phrases == ["高质量发展", "新质生产力"]
    hq, xz = r.series
    assert hq.first_year == 2023 and xz.first_year == 2024  # the filter leaves only the work reports
    assert hq.first["title"] == "2023年政府工作报告"
    assert {v for v, _, _ in hq.breakdown["type"]} == {"工作报告"}
    cols, rows = r.table()
    assert cols[:3] == ["year", "corpus_chars", "corpus_documents"] and len(cols) == 3 + 3 * 2
    assert [row[0] for row in rows] == r.years == [2023, 2024]
    whole = trend(seeded, ["高质量发展"])
    assert whole.series[0].first_year == 2021
    levels = dict((v, h) for v, h, _ in whole.series[0].breakdown["level"])
    assert levels.get("市") and levels.get("县")


def test_trend_counts_undated_hits_apart(seeded):
    s = trend(seeded, ["要素保障"], fold=False).series[0]
    assert s.undated_hits > 0  # the seed speeches carry no date
    assert s.hits == s.undated_hits + sum(y.hits for y in s.years)


def test_trend_rejects_bad_input(seeded):
    for bad in ["", "，。", " ".join(f"词{i}" for i in range(20))]:
        with pytest.raises(QueryError):
            trend(seeded, bad)
    with pytest.raises(QueryError):
        trend(seeded, "高质量发展", filters={"year": "20x4"})
    with pytest.raises(QueryError):
        trend(seeded, "高质量发展", filters={"colour": "red"})


@pytest.mark.slow
@pytest.mark.parametrize("phrase", ["高质量发展", "放管服", "改革开放", "新质生产力", "供给侧结构性改革"])
def test_trend_equals_a_scan_on_the_work_reports(reports, phrase):
    check_trend(reports, phrase, fold_reposts=True)
    check_trend(reports, phrase, fold_reposts=False)


# --- pattern ------------------------------------------------------------------------------------

def scan_pattern(paras: list[dict], regex: str) -> dict[tuple, dict]:
    rx = re.compile(regex)
    out: dict[tuple, dict] = {}
    for p in paras:
        for m in rx.finditer(p["text"]):
            st = out.setdefault(m.groups(), {"count": 0, "docs": set(), "years": set()})
            st["count"] += 1
            st["docs"].add(p["doc"])
            if p["year"] is not None:
                st["years"].add(p["year"])
    return out


def check_pattern(settings, frame: str, regex: str, max_gap: int = 8) -> None:
    assert pattern_regex(frame, max_gap).pattern == regex
    for fold_reposts in (False, True):
        want = scan_pattern(scan(settings, fold_reposts), regex)
        got = pattern_search(settings, frame, max_gap=max_gap, fold=fold_reposts, limit=None)
        assert got.distinct == len(want)
        assert got.total == sum(w["count"] for w in want.values())
        for f in got.fillers:
            w = want[tuple(f.parts)]
            assert f.count == w["count"] and f.documents == len(w["docs"]), f.filler
            if w["years"] and f.first_year is not None:
                assert f.first_year == min(w["years"]), f.filler
            assert f.example["match"] and fold(f.example["match"]) == fold(f.phrase)


def test_pattern_fillers_equal_a_regex_scan_on_the_seeds(seeded):
    check_pattern(seeded, "以*为抓手", r"以([^\W_]{1,8}?)为抓手")
    check_pattern(seeded, "坚持*不动摇", r"坚持([^\W_]{1,8}?)不动摇")
    check_pattern(seeded, "一是*二是*三是", r"一是([^\W_]{1,8}?)二是([^\W_]{1,8}?)三是")
    check_pattern(seeded, "以*为", r"以([^\W_]{1,3}?)为", max_gap=3)
    check_pattern(seeded, "推动?质量", r"推动([^\W_])质量")
    check_pattern(seeded, "要素*", r"要素([^\W_]{1,8}?)")


def test_pattern_result_shape(seeded):
    r = pattern_search(seeded, "以*为抓手", sort="count")
    top = r.fillers[0]
    assert top.filler == "项目建设" and top.count == 2 and top.first_year == 2021
    assert top.phrase == "以项目建设为抓手"
    assert PLANTED in {f.filler for f in r.fillers}
    assert r.candidates < len(scan(seeded, True))  # anchored: not every paragraph was read
    by_first = pattern_search(seeded, "以*为抓手", sort="first")
    years = [f.first_year for f in by_first.fillers if f.first_year is not None]
    assert years == sorted(years)
    multi = pattern_search(seeded, "一是*二是*三是")
    assert {f.filler for f in multi.fillers} == {"稳增长 … 调结构", "抓项目 … 优环境"}


@pytest.mark.parametrize("bad", ["", "以为抓手", "以**为抓手", "*", "以*?为", "?*"])
def test_pattern_rejects_bad_frames(seeded, bad):
    with pytest.raises(QueryError):
        pattern_search(seeded, bad)


@pytest.mark.slow
def test_pattern_fillers_equal_a_regex_scan_on_the_work_reports(reports):
    check_pattern(reports, "以*为中心", r"以([^\W_]{1,8}?)为中心")
    check_pattern(reports, "坚持*不动摇", r"坚持([^\W_]{1,8}?)不动摇")
    check_pattern(reports, "*体制改革", r"([^\W_]{1,4}?)体制改革", max_gap=4)
    check_pattern(reports, "加快?展", r"加快([^\W_])展")


# --- collocations ---------------------------------------------------------------------------------

COLLOC_DOCS = [
    "我们要推动高质量发展。全面推动高质量发展，稳步实现共同富裕。",
    "坚定不移推动高质量发展，加快建设现代化产业体系。",
    "高质量发展是首要任务，推动经济实现质的有效提升。",
    "加快建设现代化产业体系，推动经济实现量的合理增长。",
    "我们要稳步实现共同富裕，推动经济社会全面发展。",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("colloc") / "data", semantic=False)
    recs = [{"title": f"文稿{i}", "date": f"202{i}-01-01", "text": t} for i, t in enumerate(COLLOC_DOCS)]
    return _ingest(settings, recs, with_sample=False)


def reference_ll(a: int, b: int, c: int, d: int) -> float:
    """G² in its entropy form: 2(Σ O ln O − Σ R ln R − Σ C ln C + N ln N) (Dunning 1993)."""
    def xl(x):
        return x * math.log(x) if x > 0 else 0.0
    n = a + b + c + d
    return 2 * (xl(a) + xl(b) + xl(c) + xl(d) - xl(a + b) - xl(c + d) - xl(a + c) - xl(b + d) + xl(n))


def test_log_likelihood_matches_the_entropy_form():
    for cell in [(10, 90, 40, 9860), (1, 0, 0, 5), (3, 7, 11, 13), (0, 5, 5, 0), (500, 20, 30, 100000)]:
        assert log_likelihood(*cell) == pytest.approx(reference_ll(*cell), rel=1e-9, abs=1e-9)


def test_compare_keyness_is_the_same_log_likelihood():
    import numpy as np

    from indexer.compare import _ll_vec

    ca, cb, na, nb = np.array([10.0, 0, 7, 300]), np.array([2.0, 5, 7, 1]), 1000, 5000
    got = _ll_vec(ca, cb, na, nb)
    for i in range(len(ca)):  # {A, B} x {the item, other words}
        assert got[i] == pytest.approx(reference_ll(ca[i], cb[i], na - ca[i], nb - cb[i]), rel=1e-9, abs=1e-9)


def test_collocations_equal_a_reference_on_a_hand_made_corpus(tiny):
    from indexer.analysis import word_spans
    from indexer.terms import get_tokenizer

    phrase, window = "高质量发展", 3
    tk = get_tokenizer(tiny)
    texts = [fold(p["text"]) for p in scan(tiny)]
    # reference: re-cut every paragraph with jieba, find the phrase, count the words around it
    left, right, freq = Counter(), Counter(), Counter()
    f_x = w_total = n_words = 0
    for t in texts:
        spans = word_spans(t, tk)
        n_words += len(spans)
        freq.update(w for w, _, _ in spans)
        for m in re.finditer(re.escape(phrase), t):
            inside = [k for k, (_, s, e) in enumerate(spans) if s < m.end() and e > m.start()]
            lo, hi = inside[0], inside[-1] + 1
            lw = [w for w, _, _ in spans[max(0, lo - window):lo]]
            rw = [w for w, _, _ in spans[hi:hi + window]]
            left.update(lw)
            right.update(rw)
            f_x += 1
            w_total += len(lw) + len(rw)
    got = collocations(tiny, phrase, window=window, min_count=1, top=0, fold_reposts=False)
    assert got.occurrences == f_x == 4
    assert got.window_words == w_total and got.corpus_words == n_words
    both = left + right
    expect = {w for w in both if w != phrase}
    assert {c.word for c in got.collocates} == expect
    for c in got.collocates:
        f_xy, f_y = both[c.word], freq[c.word]
        assert (c.count, c.left, c.right, c.frequency) == (f_xy, left[c.word], right[c.word], f_y), c.word
        ref_dice = 14 + math.log2(2 * f_xy / (f_x + f_y))
        ref_ll = reference_ll(f_xy, w_total - f_xy, f_y - f_xy, n_words - w_total - (f_y - f_xy))
        assert c.logdice == pytest.approx(ref_dice, abs=1e-3)
        assert c.ll == pytest.approx(ref_ll, abs=0.01)
        assert scores(f_xy, f_x, f_y, w_total, n_words)[0] == pytest.approx(ref_dice, rel=1e-12)
    ranked = [c.logdice for c in got.collocates]
    assert ranked == sorted(ranked, reverse=True)
    assert got.collocates[0].word == "推动"  # three of four uses follow 推动


def test_collocations_filters_and_errors(tiny):
    r = collocations(tiny, "高质量发展", window=2, min_count=1, filters={"year": "2020..2021"})
    assert r.occurrences == 3  # documents 0 and 1 only
    with pytest.raises(QueryError):
        collocations(tiny, "高质量发展", window=0)
    with pytest.raises(QueryError):
        collocations(tiny, "", window=2)


# --- compare -----------------------------------------------------------------------------------

def test_compare_lists_a_phrase_planted_only_in_a(seeded):
    r = compare(seeded, "year:2024", "year:2023", min_count=2, min_docs=2)
    assert r.first_year_a == 2024 and r.documents_a == 4  # three planted, the hostile one
    new = {it.phrase for it in r.new}
    assert any(PLANTED in p or p in PLANTED and len(p) >= 4 for p in new), new
    over = {it.phrase for it in r.over}
    assert any(PLANTED in p or p in PLANTED and len(p) >= 4 for p in over), over
    paras = scan(seeded, True)
    earlier = [p for p in paras if p["year"] is not None and p["year"] < 2024]
    a_paras = [p for p in paras if p["year"] == 2024]
    b_paras = [p for p in paras if p["year"] == 2023]
    for it in r.new:  # nothing in the list was used before 2024
        assert not any(fold(it.phrase) in p["text"] for p in earlier), it.phrase
        assert it.count_a == sum(p["text"].count(fold(it.phrase)) for p in a_paras)
        assert it.first["year"] == 2024
    for it in r.over:
        if it.words > 1:  # phrases are counted as exact text
            assert it.count_a == sum(p["text"].count(fold(it.phrase)) for p in a_paras), it.phrase
            assert it.count_b == sum(p["text"].count(fold(it.phrase)) for p in b_paras), it.phrase
        assert it.count_a / r.words_a > it.count_b / max(r.words_b, 1)
    assert "高质量发展" not in new  # used since 2021
    assert not any(p.startswith("日称") for p in new | over)  # the tail of 3日称, not a formulation


def test_compare_against_the_rest_and_bad_input(seeded):
    r = compare(seeded, "type:工作报告", None, min_count=2, min_docs=1)
    assert r.b == "其余语料" and r.filters_b is None
    assert r.documents_a == 3
    with pytest.raises(QueryError):
        compare(seeded, "", "year:2023")
    with pytest.raises(QueryError):
        compare(seeded, "2024", "year:2023")
    with pytest.raises(QueryError):
        compare(seeded, "year:2024", "colour:red")


@pytest.mark.slow
def test_compare_on_the_work_reports(reports):
    r = compare(reports, "year:2024", "year:2023")
    assert r.over and r.documents_a >= 1
    paras = scan(reports, True)
    earlier = [p["text"] for p in paras if p["year"] is not None and p["year"] < 2024]
    for it in r.new[:20]:
        assert not any(fold(it.phrase) in t for t in earlier), it.phrase


# --- chart, table export, CLI ----------------------------------------------------------------------

def test_trend_chart_is_a_self_contained_svg(seeded):
    from indexer.chart import trend_svg

    svg = trend_svg(trend(seeded, ["高质量发展", PLANTED]))
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<script" not in svg and "<image" not in svg and 'href="http' not in svg  # nothing to load
    assert "<path" in svg  # glyphs and lines as outlines: no font needed by the reader


def test_tables_export_formula_safe(seeded, tmp_path):
    import csv
    import io

    from openpyxl import load_workbook

    from corpus.tabular import export_table

    cols = ["phrase", "count", "rate"]
    rows = [["=HYPERLINK(\"x\")", 3, 1.5], ["+1", 2, None], ["普通", 1, 0.25]]
    buf = io.BytesIO()
    export_table(seeded, cols, rows, buf, "csv")
    got = list(csv.reader(io.StringIO(buf.getvalue().decode("utf-8-sig"))))
    assert got[0] == cols and got[1][0] == "'=HYPERLINK(\"x\")" and got[2][0] == "'+1" and got[3][0] == "普通"
    path = tmp_path / "t.xlsx"
    export_table(seeded, cols, rows, path)
    ws = load_workbook(path)["results"]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[1][0] == "'=HYPERLINK(\"x\")" and values[1][1] == 3 and values[3][2] == 0.25


def test_cli_commands(seeded, tmp_path):
    from click.testing import CliRunner

    from corpus.cli import main

    runner = CliRunner()
    base = ["--data", str(seeded.data_dir)]
    r = runner.invoke(main, base + ["trend", "高质量发展", PLANTED])
    assert r.exit_code == 0, r.output
    assert "first use: 2021-03-02" in r.output and "2024" in r.output
    r = runner.invoke(main, base + ["trend", "高质量发展", "--json"])
    assert json.loads(r.output)["series"][0]["first_year"] == 2021
    r = runner.invoke(main, base + ["pattern", "以*为抓手", "--csv"])
    assert r.exit_code == 0 and "项目建设,以项目建设为抓手,2" in r.output
    r = runner.invoke(main, base + ["collocations", "高质量发展", "-w", "2", "--min-count", "1"])
    assert r.exit_code == 0 and "logDice" in r.output
    out = tmp_path / "new.xlsx"
    r = runner.invoke(main, base + ["compare", "year:2024", "year:2023", "--min-count", "2", "-o", str(out)])
    assert r.exit_code == 0 and out.exists()
    r = runner.invoke(main, base + ["pattern", "以为抓手"])
    assert r.exit_code == 1 and r.output.startswith("Error: ") and len(r.output.strip().splitlines()) == 1


def test_trend_chart_without_a_cjk_font_numbers_the_legend(seeded, monkeypatch):
    from indexer import chart

    monkeypatch.setattr(chart, "cjk_font", lambda: None)
    svg = chart.trend_svg(trend(seeded, ["高质量发展", PLANTED]))
    assert "<svg" in svg and "<path" in svg


def test_collocations_of_a_too_frequent_phrase_ask_for_a_filter(tiny, monkeypatch):
    from indexer import collocations as mod

    monkeypatch.setattr(mod, "MAX_OCCURRENCES", 2)
    with pytest.raises(QueryError, match="filter"):
        mod.collocations(tiny, "高质量发展")
    assert mod.collocations(tiny, "高质量发展", filters={"year": "2020"}).occurrences == 2


def test_word_offsets_in_one_pass_equal_a_walk_through_each_paragraph(seeded):
    import numpy as np

    from indexer.subcorpus import corpus_rows, token_offsets, token_spans, tokens

    rows = corpus_rows(seeded)
    tok, tokoff, words = tokens(seeded, rows)
    starts, lens = token_spans(seeded, rows)
    for r in range(rows.n):
        a, b = int(tokoff[r]), int(tokoff[r + 1])
        ids = np.asarray(tok[a:b]).tolist()
        assert starts[a:b].tolist() == token_offsets(rows.text, int(rows.toff[r]), [words[i] for i in ids]), r
        assert all(rows.text[s:s + n] == words[i] for s, n, i in zip(starts[a:b].tolist(), lens[a:b].tolist(), ids,
                                                                       strict=True))
