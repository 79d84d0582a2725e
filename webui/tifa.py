"""The 提法 pages: 提法走势 (timeline), 句式 (pattern fillers), 新提法 (compare), their JSON under
/api and their tables as CSV / XLSX / JSON. Views parse the URL, call indexer.trend / pattern /
compare / collocations and render; every table exports through corpus.tabular (the exports'
own writers and Excel safety). The chart is an SVG the server draws (indexer.chart), served as an
image with a policy that lets it carry its own styles and nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, jsonify, render_template, request

from corpus.errors import CorpusError, QueryError

from . import budgeted, params, services

bp = Blueprint("tifa", __name__)
api = Blueprint("tifa_api", __name__)

TABLE_FORMATS = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"  # an image: styles only, no script
LEVELS = ("中央", "省", "市", "区", "县", "乡镇")


# --- parsing the URL ---------------------------------------------------------------------------------

def _fold(args) -> bool:
    return (args.get("fold") or "1") != "0"


def _trend_args(args, settings) -> dict:
    q = params.get_query(args, settings, "q")
    if not q:
        raise QueryError("缺少短语：请给出 q 参数（多个短语用空格分开）。")
    return {"phrases": q, "filters": params.get_filters(args, settings), "fold": _fold(args)}


def _pattern_args(args, settings) -> dict:
    q = params.get_query(args, settings, "q")
    if not q:
        raise QueryError("缺少句式：请给出 q 参数，如 以*为抓手。")
    sort = (args.get("sort") or "count").strip()
    return {"pattern": q, "max_gap": params.get_int(args, "max_gap", 8, 1, 30), "sort": sort,
            "filters": params.get_filters(args, settings), "fold": _fold(args)}


def _compare_args(args, settings) -> dict:
    a = params.get_query(args, settings, "a")
    b = params.get_query(args, settings, "b")
    if not a:
        raise QueryError("缺少子语料 A：请给出 a 参数，如 year:2024。")
    return {"a": a, "b": b or None, "min_count": params.get_int(args, "min_count", 5, 1, 1000),
            "min_docs": params.get_int(args, "min_docs", 2, 1, 1000), "top": params.get_int(args, "top", 100, 10, 500),
            "fold_reposts": _fold(args)}


def _colloc_args(args, settings) -> dict:
    q = params.get_query(args, settings, "q")
    if not q:
        raise QueryError("缺少短语：请给出 q 参数。")
    return {"phrase": q, "window": params.get_int(args, "window", 5, 1, 10),
            "min_count": params.get_int(args, "min_count", 2, 1, 1000), "top": params.get_int(args, "top", 50, 5, 500),
            "sort": (args.get("sort") or "logdice").strip(), "filters": params.get_filters(args, settings),
            "fold_reposts": _fold(args)}


def run_trend(settings, args):
    from indexer.trend import trend

    return trend(settings, **_trend_args(args, settings))


def run_pattern(settings, args, limit: int | None = 300):
    from indexer.pattern import pattern_search

    return pattern_search(settings, limit=limit, **_pattern_args(args, settings))


def run_compare(settings, args):
    from indexer.compare import compare

    return compare(settings, **_compare_args(args, settings))


def run_collocations(settings, args):
    from indexer.collocations import collocations

    return collocations(settings, **_colloc_args(args, settings))


# --- links between the pages -----------------------------------------------------------------------

def link(endpoint: str, **args) -> str:
    from flask import url_for

    clean = {k: v for k, v in args.items() if v not in (None, "")}
    return url_for(endpoint) + ("?" + urlencode(clean) if clean else "")


def phrase_links(phrase: str, filters: dict | None = None) -> dict[str, str]:
    """Where a phrase in any table leads: its timeline, its KWIC lines, its hits."""
    f = {k: v for k, v in (filters or {}).items() if v}
    return {"trend": link("tifa.trend_page", q=phrase, **f), "kwic": link("pages.kwic", q=phrase, **f),
            "search": link("pages.search", q=f'"{phrase}"', mode="keyword", **f)}


def filters_as_args(filters: dict[str, list[str]] | None) -> dict[str, str]:
    """Normalised filters ({key: [values]}) back to URL arguments (the first value of each)."""
    return {k: vs[0] for k, vs in (filters or {}).items() if vs}


def here(**changes) -> str:
    """This page's URL with some arguments changed (None removes)."""
    args = {k: v for k, v in request.args.items()}
    for k, v in changes.items():
        if v is None:
            args.pop(k, None)
        else:
            args[k] = str(v)
    return request.path + ("?" + urlencode(args) if args else "")


def _context(**kw) -> dict:
    return {"phrase_links": phrase_links, "filters_as_args": filters_as_args, "here": here, "LEVELS": LEVELS, **kw}


# --- table downloads ----------------------------------------------------------------------------------

def _download_name(stem: str, fmt: str) -> str:
    stem = re.sub(r"[\\/:*?\"<>|\s]+", "_", stem).strip("_")[:40] or "table"
    return f"{stem}-{dt.date.today().isoformat()}.{fmt}"


def table_response(settings, table: tuple[list[str], list[list]], fmt: str, stem: str, about: dict) -> Response:
    from corpus.tabular import export_table

    if fmt not in TABLE_FORMATS:
        raise QueryError(f"不支持的导出格式 {fmt[:20]!r}：可选 csv、xlsx、json")
    cols, rows = table
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        export_table(settings, cols, rows, spool, fmt, about=about)
        size = spool.tell()
        spool.seek(0)
        data = spool.read()
    finally:
        spool.close()
    resp = Response(data, content_type=TABLE_FORMATS[fmt])
    resp.headers["Content-Length"] = str(size)
    name = _download_name(stem, fmt)
    resp.headers["Content-Disposition"] = f"attachment; filename=\"table.{fmt}\"; filename*=UTF-8''{quote(name)}"
    return resp


def _export(result, table, fmt: str, stem: str, about: dict):
    if fmt == "json":
        resp = jsonify(result.to_json())
        resp.headers["Content-Disposition"] = (f"attachment; filename=\"table.json\"; "
                                               f"filename*=UTF-8''{quote(_download_name(stem, 'json'))}")
        return resp
    return table_response(services().settings, table, fmt, stem, about)


def _fmt() -> str:
    return (request.args.get("fmt") or "csv").strip().lower()


# --- pages ------------------------------------------------------------------------------------------------

def _render(template: str, runner, **kw):
    """Render the page; a user error is shown in the page (status 400), not as an error page."""
    svc = services()
    result = error = None
    status = 200
    if (request.args.get("q") or request.args.get("a") or "").strip():
        try:
            result = runner(svc.settings, request.args)
        except CorpusError as e:
            error, status = e, getattr(e, "status", 400)
    return render_template(template, result=result, error=error, args=request.args, **_context(**kw)), status


@bp.get("/trend")
def trend_page():
    return _render("trend.html", run_trend)


@bp.get("/trend.svg")
def trend_chart():
    from indexer.chart import trend_svg

    svc = services()
    measure = "hits" if request.args.get("measure") == "hits" else "per_million"
    svg = trend_svg(run_trend(svc.settings, request.args), measure=measure)
    resp = Response(svg, mimetype="image/svg+xml")
    resp.headers["Content-Security-Policy"] = SVG_POLICY
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/trend/export")
def trend_export():
    svc = services()
    r = run_trend(svc.settings, request.args)
    which = (request.args.get("table") or "years").strip()
    if which == "years":
        table = r.table()
    elif which in ("level", "site", "type"):
        table = (["phrase", which, "hits", "documents"],
                 [[s.phrase, v, h, n] for s in r.series for v, h, n in s.breakdown.get(which, [])])
    else:
        raise QueryError("table 参数可选 years、level、site、type")
    return _export(r, table, _fmt(), "提法走势_" + "_".join(r.phrases), {"tool": "trend", "phrases": r.phrases,
                                                                     "filters": r.filters, "table": which})


@bp.get("/pattern")
@budgeted
def pattern_page():
    return _render("pattern.html", run_pattern)


@bp.get("/pattern/export")
def pattern_export():
    r = run_pattern(services().settings, request.args, limit=None)
    return _export(r, r.table(), _fmt(), "句式_" + r.pattern, {"tool": "pattern", "pattern": r.pattern,
                                                              "max_gap": r.max_gap, "filters": r.filters})


@bp.get("/compare")
def compare_page():
    return _render("compare.html", run_compare)


@bp.get("/compare/export")
def compare_export():
    r = run_compare(services().settings, request.args)
    which = "over" if request.args.get("list") == "over" else "new"
    return _export(r, r.table(which), _fmt(), f"新提法_{r.a}_{r.b}", {"tool": "compare", "a": r.a, "b": r.b,
                                                                       "list": which})


@bp.get("/collocations/export")
def collocations_export():
    r = run_collocations(services().settings, request.args)
    return _export(r, r.table(), _fmt(), "搭配_" + r.phrase, {"tool": "collocations", "phrase": r.phrase,
                                                             "window": r.window, "filters": r.filters})


def kwic_collocations(settings, phrase: str, occurrences: int, args, filters: dict):
    """The KWIC page's collocation table (its frequency lists became this): window from ?window=,
    words seen once listed too when the phrase is rare."""
    from indexer.collocations import MAX_OCCURRENCES, collocations

    if occurrences > MAX_OCCURRENCES:  # the concordance still shows; the statistics need a filter
        return None
    return collocations(settings, phrase, window=params.get_int(args, "window", 5, 1, 10), filters=filters,
                        min_count=1 if occurrences < 10 else 2, top=30)


# --- JSON API -----------------------------------------------------------------------------------------------

@api.get("/trend")
def trend_json():
    return jsonify(run_trend(services().settings, request.args).to_json())


@api.get("/pattern")
@budgeted
def pattern_json():
    limit = params.get_int(request.args, "limit", 300, 1, 100000)
    return jsonify(run_pattern(services().settings, request.args, limit=limit).to_json())


@api.get("/compare")
def compare_json():
    return jsonify(run_compare(services().settings, request.args).to_json())


@api.get("/collocations")
def collocations_json():
    return jsonify(run_collocations(services().settings, request.args).to_json())
