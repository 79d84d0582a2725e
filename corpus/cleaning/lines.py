"""The line a cleaning stage works on, and the context that collects what the stages learn.

Why lines and not the joined text: every removal keeps its line number for `corpus clean --explain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Join, Removal

DATE_PRIORITY = ["meta", "published", "datetime", "header", "paren", "promulgated", "edition", "md_title", "title_year"]


@dataclass
class Line:
    text: str
    no: int | None
    # "text" | "omission" (paywall omitted n chars here) | "tail" (truncated here) | "link" |
    # "table" (one table row, its cells joined by rules.TABLE_SEPARATOR)
    kind: str = "text"
    n: int | None = None
    md_level: int | None = None
    after_blank: bool = False
    join_prev: bool = False


@dataclass
class Ctx:
    meta: dict
    removed: list[Removal] = field(default_factory=list)
    joins: list[Join] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)
    title_prefix: str | None = None
    speaker: str | None = None
    unit: str | None = None  # the speaker's unit from a byline in the header
    meeting: str | None = None
    wikisource: bool = False
    header_title: str | None = None  # a speech's own title found in its header ('…讲话（2020年9月8日）习近平')
    claimed_length: int | None = None
    truncated: bool = False

    def drop(self, text: str, rule: str, no: int | None) -> None:
        text = text.strip()
        if text:
            self.removed.append(Removal(text=text, rule=rule, line_no=no))

    def join(self, first: str, second: str, rule: str, no: int | None) -> None:
        """Record that `second` was joined onto `first` (both shown shortened)."""
        self.joins.append(Join(before=first[-20:], after=second[:20], rule=rule, line_no=no))

    def date(self, source: str, value: str | None) -> None:
        if value and source not in self.dates:
            self.dates[source] = value

    def best_date(self) -> str | None:
        for src in DATE_PRIORITY:
            if src in self.dates:
                return self.dates[src]
        return None
