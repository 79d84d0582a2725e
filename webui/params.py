"""Request arguments -> library requests. The one place the web UI reads query strings.

Pages, the JSON API and export all parse the URL the same way, so a bookmarked search, its JSON
and its export are the same result set. Bad values are user errors (QueryError -> 400), never 500s.
"""

from __future__ import annotations

from urllib.parse import urlencode

from corpus.errors import QueryError
from corpus.settings import Settings
from indexer.api import MODES, SCOPES, SearchRequest
from indexer.query import FIELDS as FILTER_KEYS  # the filters are the query language's fields

# Facets the search returns -> the filter a click on one of their values sets. The "unit" facet
# counts unit levels (区/市/省...: indexer.facets.unit_level), which the "level" filter selects.
FACET_FILTERS = {"year": "year", "site": "site", "type": "type", "unit": "level"}
SORTS = ("relevance", "date")
MAX_PAGE = 1000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10
INT_LABELS = {"page": "页码", "per_page": "每页条数", "limit": "条数", "width": "语境宽度", "k": "条数", "p": "段落编号"}


def get_int(args, name: str, default: int, lo: int, hi: int) -> int:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{INT_LABELS.get(name, name)}应为整数：「{raw[:20]}」") from None
    return max(lo, min(hi, value))


def get_query(args, settings: Settings, name: str = "q") -> str:
    q = (args.get(name) or "").strip()
    if len(q) > settings.max_query_chars:
        raise QueryError(f"查询过长：{len(q)} 字，最多 {settings.max_query_chars} 字。请缩短后重试。")
    return q


def get_filters(args, settings: Settings) -> dict[str, str]:
    filters = {}
    for key in FILTER_KEYS:
        value = (args.get(key) or "").strip()
        if value:
            if len(value) > settings.max_query_chars:
                raise QueryError(f"筛选条件 {key} 过长。")
            filters[key] = value
    return filters


def search_request(args, settings: Settings, *, default_mode: str = "keyword") -> SearchRequest:
    """The SearchRequest a URL describes: q, mode, scope, sort, page, per_page and the filters."""
    mode = (args.get("mode") or default_mode).strip()
    if mode not in MODES:
        raise QueryError(f"未知的检索方式「{mode[:20]}」：只能是 关键词、语义 或 混合")
    scope = (args.get("scope") or "paragraph").strip()
    if scope not in SCOPES:
        raise QueryError(f"未知的范围「{scope[:20]}」：只能是 同段 或 同句")
    sort = (args.get("sort") or "relevance").strip()
    if sort not in SORTS:
        raise QueryError(f"未知的排序「{sort[:20]}」：只能按 相关度 或 日期")
    return SearchRequest(
        query=get_query(args, settings),
        mode=mode,
        scope=scope,
        filters=get_filters(args, settings),
        page=get_int(args, "page", 1, 1, MAX_PAGE),
        per_page=get_int(args, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
        sort=sort,
        fold=(args.get("fold") or "1") != "0",
    )


def request_args(req: SearchRequest, **changes) -> dict[str, str]:
    """URL arguments of a request, with `changes` applied (None removes). The mode is always written:
    the web UI's default (hybrid once embeddings exist) is not the library's, and a link must never
    switch the mode a drafter chose; scope, sort and page size are left out only at their defaults,
    which are the same everywhere."""
    args: dict[str, str] = {"q": req.query}
    if req.mode:
        args["mode"] = req.mode
    if req.scope != "paragraph":
        args["scope"] = req.scope
    if req.sort != "relevance":
        args["sort"] = req.sort
    if not req.fold:
        args["fold"] = "0"
    if req.per_page != DEFAULT_PER_PAGE:
        args["per_page"] = str(req.per_page)
    args.update(req.filters)
    if req.page != 1:
        args["page"] = str(req.page)
    for k, v in changes.items():
        if v is None:
            args.pop(k, None)
        else:
            args[k] = str(v)
    return args


def query_string(req: SearchRequest, **changes) -> str:
    return urlencode(request_args(req, **changes))

