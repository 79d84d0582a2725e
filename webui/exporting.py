"""Export of a whole result set from the page, with the same code as `corpus export`.

indexer.export.export_results writes to a binary stream; we give it a spooled temporary file (memory
first, disk past 16 MB) so errors (bad query, missing index) surface before any byte is sent and
become a normal error page, then stream the file back as a download.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile

from flask import Response

from corpus.errors import QueryError
from corpus.settings import Settings
from indexer.api import SearchRequest

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
WEB_FORMATS = ("csv", "jsonl", "xlsx")


def download_name(req: SearchRequest, fmt: str) -> str:
    stem = re.sub(r"[\\/:*?\"<>|\s]+", "_", req.query).strip("_")[:40] or "检索结果"
    return f"{stem}-{dt.date.today().isoformat()}.{fmt}"


def export_response(settings: Settings, req: SearchRequest, fmt: str) -> Response:
    from indexer.export import FORMATS, export_results

    if fmt not in WEB_FORMATS or fmt not in FORMATS:
        raise QueryError(f"不支持的导出格式 {fmt[:20]!r}：可选 {', '.join(WEB_FORMATS)}")
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    try:
        export_results(settings, req, spool, fmt)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise

    def stream():
        try:
            while chunk := spool.read(64 * 1024):
                yield chunk
        finally:
            spool.close()

    from urllib.parse import quote

    name = download_name(req, fmt)
    resp = Response(stream(), mimetype=MIMETYPES[fmt])
    resp.headers["Content-Length"] = str(size)
    resp.headers["Content-Disposition"] = f"attachment; filename=\"export.{fmt}\"; filename*=UTF-8''{quote(name)}"
    return resp
