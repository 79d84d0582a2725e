"""The shapes that flow through the pipeline: read -> clean -> store.

`RawRecord` is what a reader got out of a file (or a fetched page); `clean_text`/`clean_record`
turn it into one or more `Document`s (a compilation, 汇编, yields several), each a list of
`Paragraph`s with their outline (提纲) position. The store keeps both the raw text and the result.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field


@dataclass
class Paragraph:
    text: str
    kind: str = "body"  # "heading" | "body" | "table" (one table row, cells joined by " | ")
    level: int = 0  # outline level of a heading: 1 一、 2 （一） 3 1. 4 （1）; 0 for body text
    section: list[str] = field(default_factory=list)  # the headings above this paragraph, outermost first
    omitted_before: int | None = None  # a paywall omitted text just before this paragraph: its length, or -1 if unknown


@dataclass
class Document:
    title: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    site: str | None = None
    url: str | None = None
    date: str | None = None  # ISO: "2025-07-24", "2025-07" or "2025"
    unit: str | None = None  # speaker unit, e.g. "xx区", "市发改委"
    meeting: str | None = None
    doc_type: str | None = None  # 讲话, 发言, 调研报告, 工作报告, 致辞, 意见, 通知, 法规, 新闻 ...
    truncated: bool = False
    claimed_length: int | None = None  # full length the site claims ("全文共5223字")
    speaker: str | None = None
    level: str | None = None  # administrative level of the unit or meeting: 中央 省 市 区 县 乡镇

    @property
    def year(self) -> int | None:
        if self.date and re.match(r"^\d{4}", self.date):
            return int(self.date[:4])
        return None

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.paragraphs)

    def to_json(self) -> dict:
        d = asdict(self)
        d["year"] = self.year
        d["paragraphs"] = [p.text for p in self.paragraphs]
        d["outline"] = [
            {"text": p.text, "kind": p.kind, "level": p.level, "section": p.section, "omitted_before": p.omitted_before}
            for p in self.paragraphs
        ]
        return d


@dataclass
class Removal:
    """A line (or part of one) a cleaning rule removed, for `corpus clean --explain`."""

    text: str
    rule: str
    line_no: int | None = None


@dataclass
class Join:
    """Two lines the cleaner joined into one (a hard-wrapped sentence, a table row), for `--explain`."""

    before: str  # the end of the first line
    after: str  # the start of the line joined onto it
    rule: str
    line_no: int | None = None


@dataclass
class CleanResult:
    documents: list[Document]
    removed: list[Removal] = field(default_factory=list)
    joins: list[Join] = field(default_factory=list)


@dataclass
class RawRecord:
    """Text as collected, before cleaning. `raw` is what the store keeps (HTML stays HTML)."""

    raw: str
    path: str  # file path, "file.jsonl#12" for a JSONL record, or the URL for a fetched page
    format: str  # "text", "markdown", "html", "docx", "jsonl"
    encoding: str = "utf-8"
    sha256: str = ""  # of the raw bytes (or of the record's JSON for JSONL)
    meta: dict = field(default_factory=dict)  # title, url, date, site, unit, doc_type given by the source
    # the bytes as collected (kept in the store, so `corpus reclean` can decode them again); None when
    # the record was made from text (older stores, our own exports)
    data: bytes | None = None
