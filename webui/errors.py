"""Errors as pages or JSON, never a traceback.

Domain errors (corpus.errors.CorpusError) carry their HTTP status and a message that says what to
do next. Under /api the answer is JSON `{"error": {...}}`; elsewhere a Chinese error page.
Anything unexpected is logged and answered with a plain 500 page without details.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from corpus.errors import CorpusError, IndexLocked, IndexMissing, ModelError, NotFound, QueryError

log = logging.getLogger(__name__)

TITLES = {
    QueryError: "查询有误",
    NotFound: "未找到",
    IndexMissing: "尚未建立索引",
    IndexLocked: "索引正在更新",
    ModelError: "语义模型不可用",
}

HTTP_MESSAGES = {
    400: "请求有误。",
    404: "没有这个页面。",
    405: "不支持这种请求方式。",
    413: "请求内容过大。",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


# Chinese text for errors raised without one (model and index internals): the page says what to do,
# the English original stays available as a technical detail.
FALLBACK_ZH = {
    IndexMissing: "尚未建立索引：请先运行 `corpus index`。",
    IndexLocked: "索引正在更新，请稍后再试。",
    ModelError: "语义模型不可用：关键词检索仍可使用；运行 `corpus model` 查看原因。",
    NotFound: "没有找到要访问的内容。",
    QueryError: "查询有误，请检查后重试。",
}


def message_zh(e: CorpusError) -> tuple[str, str | None]:
    """(Chinese message, English detail or None) for a domain error shown in a page."""
    if getattr(e, "zh", None):
        return e.zh, None
    if any("\u4e00" <= ch <= "\u9fff" for ch in str(e)):  # raised in Chinese already (the web layer's own)
        return str(e), None
    fallback = next((t for cls, t in FALLBACK_ZH.items() if isinstance(e, cls)), "操作未能完成。")
    return fallback, str(e)


def error_response(status: int, kind: str, title: str, message: str, detail: str | None = None):
    if _wants_json():
        resp = jsonify({"error": {"type": kind, "title": title, "message": message, "status": status,
                                  **({"detail": detail} if detail else {})}})
        resp.status_code = status
        return resp
    return render_template("error.html", status=status, title=title, message=message, kind=kind,
                           detail=detail), status


def register(app: Flask) -> None:
    @app.errorhandler(CorpusError)
    def corpus_error(e: CorpusError):
        title = getattr(e, "title", None) or next((t for cls, t in TITLES.items() if isinstance(e, cls)), "出错了")
        zh, detail = message_zh(e)
        resp = error_response(getattr(e, "status", 400), type(e).__name__, title, zh, detail)
        retry = getattr(e, "retry_after", None)
        if retry:
            resp = app.make_response(resp)
            resp.headers["Retry-After"] = str(retry)
        return resp

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        status = e.code or 500
        return error_response(status, "HTTPError", f"{status} {e.name}", HTTP_MESSAGES.get(status, e.description or ""))

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        if isinstance(e, HTTPException):  # pragma: no cover - handled above
            return http_error(e)
        log.exception("unexpected error on %s", request.path)
        return error_response(500, "InternalError", "服务器内部错误", "处理请求时发生意外错误，已记录日志。请稍后重试。")
