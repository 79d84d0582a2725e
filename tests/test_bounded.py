"""Bounded work per request: KWIC builds only the lines it shows, a request time budget cuts long
scans with a notice, exports stream from their own small pool and never need a search thread."""

from __future__ import annotations

import csv
import io
import threading
import time

import pytest
from conftest import SAMPLE

from corpus.ingest import ingest_paths
from corpus.settings import Settings
from corpus.store import Store
from indexer import budget
from indexer import kwic as kwic_mod
from indexer.analysis import fold
from indexer.api import SearchRequest
from indexer.keyword import build_index
from indexer.search import Matches, search
from webui import create_app

WORD = "项目"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Settings:
    s = Settings(data_dir=tmp_path_factory.mktemp("bounded") / "data", semantic=False)
    ingest_paths(s, [SAMPLE])
    build_index(s)
    return s


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Settings:
    """A corpus with a few thousand paragraphs holding the same word (a broad query)."""
    import random

    root = tmp_path_factory.mktemp("many")
    rnd = random.Random(13)
    words = ["乡村", "振兴", "产业", "融合", "城乡", "发展", "营商", "环境", "招商", "引资", "土地", "资金", "人才",
             "科技", "创新", "生态", "保护", "民生", "就业", "教育", "医疗", "养老", "交通", "水利", "能源"]
    for f in range(3):
        paras = ["".join(rnd.choices(words, k=12)) + "，推进重点项目建设，强化要素保障。"
                 + "".join(rnd.choices(words, k=10)) + "，抓好项目储备。" for _ in range(900)]
        (root / f"speech{f}.txt").write_text(f"关于项目建设的讲话{f}\n\n" + "\n\n".join(paras), encoding="utf-8")
    s = Settings(data_dir=root / "data", semantic=False)
    ingest_paths(s, [root])
    build_index(s)
    return s


def occurrences(settings, phrase) -> int:
    store = Store(settings.db_path, readonly=True)
    return sum(fold(t).count(phrase) for (t,) in store.db.execute("SELECT text FROM paragraphs"))


# --- KWIC ---------------------------------------------------------------------------------------

def test_kwic_counts_all_but_builds_only_the_lines_it_shows(many, monkeypatch):
    built = []
    real = Matches.hits

    def counting(self, start, stop):
        built.append(stop - start)
        return real(self, start, stop)

    monkeypatch.setattr(Matches, "hits", counting)
    kwic_mod._cache.clear()
    r = kwic_mod.kwic(many, WORD, limit=10, fold_reposts=False)
    assert len(r.lines) == 10
    assert r.total == occurrences(many, WORD) > 5000  # counted from the index, every occurrence
    assert r.paragraphs == 2700
    assert sum(built) <= 10  # paragraphs read from the store: only those the 10 lines come from
    assert r.sampled == kwic_mod.COLLOCATE_SAMPLE < r.total
    assert dict(r.left_collocates).get("重点项目", 0) > 0


def test_kwic_lines_are_the_best_ranked_then_sorted(seeded):
    full = kwic_mod.kwic(seeded, WORD, sort="position", limit=None)
    top = kwic_mod.kwic(seeded, WORD, sort="left", limit=5)
    assert top.total == full.total == occurrences(seeded, WORD)
    assert {(ln.paragraph_id, ln.offset) for ln in top.lines} == {(ln.paragraph_id, ln.offset) for ln in full.lines[:5]}
    keys = [fold(ln.left)[::-1] for ln in top.lines]
    assert keys == sorted(keys)


def test_kwic_overlapping_occurrences_count_like_the_lines(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.txt").write_text("标题\n\n哈哈哈，好。\n\n哈哈，又一段。", encoding="utf-8")
    s = Settings(data_dir=tmp_path / "data", semantic=False)
    ingest_paths(s, [root])
    build_index(s)
    r = kwic_mod.kwic(s, "哈哈", limit=None)
    assert r.total == len(r.lines) == 3


def test_kwic_cache_follows_the_corpus(seeded, tmp_path):
    kwic_mod._cache.clear()
    a = kwic_mod.kwic(seeded, WORD, limit=3)
    b = kwic_mod.kwic(seeded, WORD, limit=3)
    assert a == b and a is not b
    b.lines.clear()  # a caller changing its copy does not change the cache
    assert len(kwic_mod.kwic(seeded, WORD, limit=3).lines) == 3


def test_budget_cuts_kwic_collocates_with_a_notice(many):
    kwic_mod._cache.clear()
    with budget.time_budget(1e-9):
        time.sleep(0.001)
        r = kwic_mod.kwic(many, WORD, limit=5)
    assert r.notice and r.sampled < r.total
    assert len(r.lines) == 5  # the lines shown are still built
    assert kwic_mod.kwic(many, WORD, limit=5).notice is None  # the cut result was not cached


def test_budget_cuts_the_sentence_scan_with_a_notice(many):
    req = SearchRequest(query="项目 要素保障", scope="sentence")
    full = search(many, req)
    assert full.notice is None and full.total == 2700
    with budget.time_budget(1e-9):
        time.sleep(0.001)
        cut = search(many, req)
    assert cut.notice and budget.NOTICE in cut.notice
    assert cut.total < full.total
    assert not budget.expired()  # outside the block: no budget


def test_no_budget_outside_a_request():
    assert budget.expired() is False
    with budget.time_budget(0):
        assert budget.expired() is False
    with budget.time_budget(60):
        assert budget.expired() is False and not budget.was_cut()


def test_web_kwic_shows_sampling_and_honours_limit(many):
    app = create_app(many)
    c = app.test_client()
    r = c.get("/api/kwic", query_string={"q": WORD, "limit": 10})
    d = r.get_json()
    assert r.status_code == 200 and len(d["lines"]) == 10 and d["total"] == occurrences(many, WORD)
    page = c.get("/kwic", query_string={"q": WORD, "limit": 10})
    assert page.status_code == 200 and page.get_data(as_text=True).count("data-pid=") == 10


# --- exports ------------------------------------------------------------------------------------

def test_export_streams_before_it_is_done(seeded, monkeypatch):
    """The first chunk reaches the client while the producer is still writing."""
    import indexer.export as export_mod

    release = threading.Event()
    done = threading.Event()

    def slow_export(settings, request, out, fmt):
        out.write(b"a" * 70_000)  # more than one chunk
        release.wait(10)
        out.write(b"b" * 10)
        done.set()

    monkeypatch.setattr(export_mod, "export_results", slow_export)
    app = create_app(seeded)
    r = app.test_client().get("/export", query_string={"q": WORD, "fmt": "csv"}, buffered=False)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"  # charset once
    assert "Content-Length" not in r.headers
    body = iter(r.response)
    first = next(body)
    assert first.startswith(b"a") and not done.is_set()
    release.set()
    rest = b"".join(body)
    assert len(first) + len(rest) == 70_010 and done.is_set()
    r.close()
    assert app.extensions["corpus_exports"].running == 0


def test_broad_export_is_complete(many):
    app = create_app(many)
    c = app.test_client()
    total = c.get("/api/search", query_string={"q": WORD, "mode": "keyword"}).get_json()["total"]
    r = c.get("/export", query_string={"q": WORD, "fmt": "csv", "mode": "keyword"})
    rows = list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert len(rows) == total > 2000
    assert len({row["段落编号"] for row in rows}) == total  # the Chinese header of paragraph_id
    assert app.extensions["corpus_exports"].running == 0


def test_exports_beyond_the_pool_are_refused_not_queued_forever(seeded, monkeypatch):
    import indexer.export as export_mod

    release = threading.Event()

    def held(settings, request, out, fmt):
        out.write(b"x" * 70_000)
        release.wait(10)

    monkeypatch.setattr(export_mod, "export_results", held)
    app = create_app(Settings(data_dir=seeded.data_dir, semantic=False, export_workers=1, export_queue=0))
    c = app.test_client()
    first = c.get("/export", query_string={"q": WORD}, buffered=False)
    assert first.status_code == 200
    busy = c.get("/export", query_string={"q": WORD})
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    assert c.get("/api/search", query_string={"q": WORD}).status_code == 200  # searches are not held
    release.set()
    first.get_data()
    first.close()
    assert c.get("/export", query_string={"q": WORD}, buffered=False).status_code == 200


def test_export_errors_before_the_first_byte_are_pages(seeded):
    app = create_app(seeded)
    c = app.test_client()
    r = c.get("/export", query_string={"q": '"', "fmt": "csv"})
    assert r.status_code == 400 and "text/html" in r.headers["Content-Type"]
    assert app.extensions["corpus_exports"].running == 0


def test_exports_take_turns(seeded):
    """Two exports in one pool of one worker both progress: neither waits for the other's end."""
    from webui.exporting import TurnGate

    gate = TurnGate(1)
    order = []

    def worker(name):
        for _ in range(3):
            with gate.turn():
                order.append(name)
                time.sleep(0.01)
            time.sleep(0.001)

    ts = [threading.Thread(target=worker, args=(n,)) for n in "ab"]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(order) == list("aaabbb")
    assert order != list("aaabbb") and order != list("bbbaaa")


def test_requests_beyond_the_threads_wait_for_a_turn_exports_pass(seeded):
    """limit_requests (what corpus serve runs): with 2 request threads a third request waits until one
    is done, while an export is served beside them."""
    from webui import limit_requests

    app = create_app(seeded)
    release, inside, peak, lock = threading.Event(), [0], [0], threading.Lock()

    @app.get("/test-slow")
    def slow():
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        release.wait(10)
        with lock:
            inside[0] -= 1
        return "done"

    from werkzeug.test import Client

    wsgi = limit_requests(app, 2)

    def call(path, query=""):
        r = Client(wsgi).get(path, query_string=query)
        return r.status, r.get_data()

    got = []
    ts = [threading.Thread(target=lambda: got.append(call("/test-slow"))) for _ in range(3)]
    for t in ts:
        t.start()
    deadline = time.monotonic() + 10
    while inside[0] < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # the third has had time to get in, were it let in
    assert inside[0] == 2
    status, data = call("/export", "q=要素保障&fmt=csv")  # served while both turns are taken
    assert status.startswith("200") and "要素保障".encode() in data
    release.set()
    for t in ts:
        t.join(10)
    assert peak[0] == 2 and [s for s, _ in got] == ["200 OK"] * 3


def test_kwic_page_of_a_very_common_word_skips_the_collocation_pass(many, monkeypatch):
    import webui.views as views

    monkeypatch.setattr(views, "KWIC_COLLOCATION_MAX", 100)
    c = create_app(many).test_client()
    page = c.get("/kwic", query_string={"q": WORD}).get_data(as_text=True)
    assert "data-colloc-skipped" in page and "collocations/export" in page
    rare = c.get("/kwic", query_string={"q": "要素保障储备"}).get_data(as_text=True)
    assert "data-colloc-skipped" not in rare


def test_serve_warms_up_before_taking_requests(seeded, tmp_path):
    from indexer.keyword import view

    view._views.clear()
    create_app(seeded).extensions["corpus"].warm_up()
    assert str(seeded.index_dir.resolve()) in view._views  # the first request does not open the index
    create_app(Settings(data_dir=tmp_path / "empty", semantic=False)).extensions["corpus"].warm_up()  # no store: no error


def test_the_same_concordance_asked_at_once_is_computed_once(seeded):
    calls = []
    started = threading.Event()
    release = threading.Event()

    def slow():
        calls.append(1)
        started.set()
        release.wait(10)
        return kwic_mod.KwicResult(phrase="x", lines=[], total=0, paragraphs=0)

    out = []
    first = threading.Thread(target=lambda: out.append(kwic_mod.cached(seeded, ("t", 1), slow)))
    first.start()
    started.wait(10)
    second = threading.Thread(target=lambda: out.append(kwic_mod.cached(seeded, ("t", 1), slow)))
    second.start()
    time.sleep(0.1)
    release.set()
    first.join()
    second.join()
    assert len(calls) == 1 and len(out) == 2 and out[0] == out[1]
