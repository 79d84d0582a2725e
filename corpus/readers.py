"""Reading collected files into `RawRecord`s: .txt .md .html/.htm/.shtml .docx .jsonl.

Each reader refuses bad input with an `InputError` naming the file and the problem (binary, empty,
too large, unknown encoding, a .docx that is not a zip), so ingest can report it and go on.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

from .dates import normalise_date
from .encoding import decode_bytes, decode_html
from .errors import InputError
from .models import RawRecord

TEXT_EXT = {".txt", ".text"}
MARKDOWN_EXT = {".md", ".markdown"}
HTML_EXT = {".html", ".htm", ".shtml", ".xhtml"}
DOCX_EXT = {".docx"}
JSONL_EXT = {".jsonl", ".ndjson"}
SUPPORTED = TEXT_EXT | MARKDOWN_EXT | HTML_EXT | DOCX_EXT | JSONL_EXT

# JSONL field mapping: the first key present wins. Covers our own export (`corpus export --all`),
# common scraper dumps and the pkulaw policy files (Policy Title is English there: kept as title_en).
JSONL_FIELDS = {
    "text": ("text", "content", "body", "正文", "内容", "Policy Content", "raw"),
    "title": ("title", "标题", "name", "题目"),
    "title_en": ("Policy Title",),
    "url": ("url", "source_url", "link", "Policy Source", "来源网址"),
    "date": ("date", "publish_date", "published", "发布时间", "发表时间", "Release Time", "日期"),
    "site": ("site", "source", "来源", "网站"),
    "unit": ("unit", "单位", "Release Department", "发文机关"),
    "doc_type": ("doc_type", "type", "类型", "文种"),
    "meeting": ("meeting", "会议"),
}


def os_error_reason(e: OSError) -> str:
    if isinstance(e, FileNotFoundError):
        return "vanished before it could be read (no such file)"
    if isinstance(e, PermissionError):
        return "cannot be read (permission denied)"
    if isinstance(e, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot be read ({e.strerror or type(e).__name__})"


def iter_input_files(paths: list[str | Path], faults: list[tuple[str, str]] | None = None) -> Iterator[Path]:
    """Files under the given paths, recursively and sorted (folders: supported types only, hidden
    names skipped); everything that cannot be walked or read is added to `faults` as
    (path, one-line reason) and the walk goes on: an unreadable or vanished folder, a broken
    symlink, a path that does not exist. Symlinked folders are followed once (no loops)."""
    if faults is None:
        faults = []
    for p in paths:
        p = Path(p)
        if p.is_symlink() and not p.exists():
            faults.append((str(p), f"{p}: broken symlink (its target {_link_target(p)} does not exist)"))
        elif p.is_dir():
            yield from _walk(p, faults, set())
        elif not p.exists():
            faults.append((str(p), f"{p}: no such file or folder"))
        else:
            yield p  # given by name: try it whatever its extension, and say why if it fails


def _link_target(p: Path) -> str:
    try:
        return str(p.readlink())
    except OSError:  # pragma: no cover - vanished meanwhile
        return "?"


def _walk(folder: Path, faults: list[tuple[str, str]], seen: set[str]) -> Iterator[Path]:
    try:
        real = os.path.realpath(folder)
        if real in seen:
            return
        seen.add(real)
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        faults.append((str(folder), f"{folder}: folder {os_error_reason(e)}; nothing in it was ingested"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir():  # follows a symlinked folder
                yield from _walk(path, faults, seen)
                continue
            is_file = entry.is_file()
            broken = entry.is_symlink() and not is_file and not path.exists()
        except OSError as e:
            faults.append((str(path), f"{path}: {os_error_reason(e)}"))
            continue
        if path.suffix.lower() not in SUPPORTED:
            continue
        if broken:
            faults.append((str(path), f"{path}: broken symlink (its target {_link_target(path)} does not exist)"))
        elif is_file:
            yield path


def read_path(path: Path, *, max_bytes: int) -> list[RawRecord] | Iterator[RawRecord | InputError]:
    """Read one file into records. A JSONL file is streamed record by record (the size limit
    applies to each record, so a whole-corpus export of any size can be read back)."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    size = path.stat().st_size
    if path.suffix.lower() in JSONL_EXT:
        if size == 0:
            raise InputError(f"{path}: empty file")
        return stream_jsonl(path, max_bytes=max_bytes)
    if size > max_bytes:
        raise InputError(
            f"{path}: file too large ({size / 1048576:.1f} MB; the limit is {max_bytes / 1048576:.0f} MB, "
            "set CORPUS_MAX_FILE_BYTES to raise it)"
        )
    data = path.read_bytes()
    if not data.strip():
        raise InputError(f"{path}: empty file")
    ext = path.suffix.lower()
    if ext in DOCX_EXT:
        return [read_docx(data, str(path))]
    if ext in HTML_EXT or (ext not in TEXT_EXT | MARKDOWN_EXT and _looks_html(data)):
        return [reread(data, path=str(path), format="html")]
    return [reread(data, path=str(path), format="markdown" if ext in MARKDOWN_EXT else "text")]


def reread(data: bytes, *, path: str, format: str) -> RawRecord:
    """A record from the bytes as collected: what reading a file does, and what `corpus reclean` does
    again with the bytes the store kept (so a better decoder repairs what an older one got wrong)."""
    if format == "docx":
        return read_docx(data, path)
    if format == "jsonl":
        line, _enc = decode_bytes(data, name=path)
        rec = _record_from_line(line, path)
        if isinstance(rec, InputError):
            raise rec
        rec.data = data
        return rec
    if format == "html":
        text, enc = decode_html(data, name=path)
    else:
        text, enc = decode_bytes(data, name=path)
    if not text.strip():
        raise InputError(f"{path}: empty file")
    return RawRecord(raw=text, path=path, format=format, encoding=enc, sha256=_sha(data), data=data)


def _looks_html(data: bytes) -> bool:
    head = data[:2048].lower()
    return b"<html" in head or b"<!doctype html" in head


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_docx(data: bytes, name: str) -> RawRecord:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputError(f"{name}: not a .docx file (not a zip archive)")
    try:
        import docx  # python-docx

        d = docx.Document(io.BytesIO(data))
    except Exception as e:  # a zip that is not a Word document, or a damaged one
        raise InputError(f"{name}: cannot read .docx ({type(e).__name__}: {e})") from None
    lines = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            # cells separated by tabs: the cleaner keeps each row as one paragraph of kind "table"
            lines.append("\t".join(c.text.strip() for c in row.cells if c.text.strip()))
    text = "\n".join(lines)
    if not text.strip():
        raise InputError(f"{name}: .docx has no text")
    meta = {}
    title = (d.core_properties.title or "").strip()
    if title:
        meta["title"] = title
    return RawRecord(raw=text, path=name, format="docx", encoding="docx", sha256=_sha(data), meta=meta, data=data)


def stream_jsonl(path: Path, *, max_bytes: int) -> Iterator[RawRecord | InputError]:
    """Records of a JSONL file, one line at a time (UTF-8, or GB18030 line by line)."""
    name = str(path)
    with path.open("rb") as f:
        for n, raw_line in enumerate(f, 1):
            if not raw_line.strip():
                continue
            where = f"{name}#{n}"
            if len(raw_line) > max_bytes:
                yield InputError(f"{where}: record too large ({len(raw_line) / 1048576:.1f} MB; the limit is "
                                 f"{max_bytes / 1048576:.0f} MB, set CORPUS_MAX_FILE_BYTES to raise it)")
                continue
            try:
                line, _enc = decode_bytes(raw_line, name=where)
            except InputError as e:
                yield e
                continue
            rec = _record_from_line(line, where)
            if isinstance(rec, RawRecord) and rec.format == "jsonl":
                rec.data = raw_line
            yield rec


def _record_from_line(line: str, where: str) -> RawRecord | InputError:
    """One JSONL line; a bad line becomes an InputError (reported, the rest goes on)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        msg = e.msg[:-3] if e.msg.endswith(" at") else e.msg  # "Unterminated string starting at"
        return InputError(f"{where}: not valid JSON ({msg} at column {e.colno})")
    if not isinstance(obj, dict):
        return InputError(f"{where}: a JSON object with a text field was expected")
    return record_from_mapping(obj, where)


def record_from_mapping(obj: dict, where: str) -> RawRecord | InputError:
    if "corpus_export" in obj:  # our own `corpus export --all` record: stored as it is (corpus.export)
        return _corpus_export_record(obj, where)
    meta = {}
    for key, names in JSONL_FIELDS.items():
        for n in names:
            v = obj.get(n)
            if v not in (None, ""):
                meta[key] = v
                break
    body = meta.pop("text", None)
    paragraphs = obj.get("paragraphs")
    if body is None and isinstance(paragraphs, list):  # our own `export --all` format
        body = "\n".join(p["text"] if isinstance(p, dict) else str(p) for p in paragraphs)
    if not isinstance(body, str) or not body.strip():
        return InputError(f"{where}: no text field (expected one of: text, content, body, paragraphs)")
    if "date" in meta:
        meta["date"] = normalise_date(meta["date"])
        if meta["date"] is None:
            meta.pop("date")
    meta = {k: (str(v) if not isinstance(v, str) else v) for k, v in meta.items()}
    canonical = json.dumps(obj, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return RawRecord(raw=body, path=where, format="jsonl", encoding="utf-8", sha256=_sha(canonical), meta=meta)


def _corpus_export_record(obj: dict, where: str) -> RawRecord:
    """The record's JSON is the raw text; `ingest.clean_record` rebuilds the exact document from it
    (no cleaner: its paragraphs, headings and sections are already the cleaned result)."""
    raw = json.dumps(obj, ensure_ascii=False, sort_keys=True)
    meta = {k: str(obj[k]) for k in ("title", "url", "date", "site", "unit", "doc_type") if obj.get(k) not in (None, "")}
    return RawRecord(raw=raw, path=where, format="corpus-export", encoding="utf-8", sha256=_sha(raw.encode("utf-8")),
                     meta=meta)
