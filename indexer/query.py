"""The query language: what a drafter types into `corpus search` or the web search box.

    要素保障 营商环境          all words required; paragraphs with the exact words rank first
    "要素保障跟着项目走"       exact phrase (also “…” and 「…」)
    -招商引资  -"三区共建"     exclude paragraphs containing it
    双招双引 OR 招商引资       either (binds the two neighbours)
    title:营商环境 site:wm114 type:讲话 unit:区 year:2023 year:2020..2024   filters
    (Chinese field names work too: 标题: 网站: 类型: 单位: 年份:)

Scope (`--scope` / the web switch): all terms in one paragraph (同段, default) or one sentence (同句).
`parse()` turns text into a `Query` or raises QueryError with a message meant for the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from corpus.errors import QueryError

from .analysis import RUN, fold


def _strip_invisible(text: str) -> str:
    """corpus.cleaning's strip_invisible, imported only when the text has a format character (every
    character it removes is one): the cleaner's rules cost ~0.1 s to import, a query rarely needs them."""
    import unicodedata

    if not any(unicodedata.category(c) == "Cf" for c in text):
        return text
    from corpus.textnorm import strip_invisible

    return strip_invisible(text)

FIELDS = ("title", "site", "type", "unit", "year", "level")
FIELD_ALIASES = {
    "title": "title", "标题": "title", "题目": "title",
    "site": "site", "网站": "site", "来源": "site",
    "type": "type", "类型": "type", "文种": "type",
    "unit": "unit", "单位": "unit",
    "year": "year", "年份": "year", "年": "year",
    "level": "level", "层级": "level",
}

HELP = """\
Query language:
  要素保障 营商环境        all words must occur (in one paragraph, or one sentence with --scope sentence);
                           paragraphs containing the exact words rank first, scattered matches after
  "要素保障跟着项目走"     exact phrase (straight or Chinese quotes “…”)
  -招商引资                exclude paragraphs containing a word or "phrase"
  双招双引 OR 招商引资     either one (OR in capitals, or |)
  title:营商环境           filter by document title (substring); also site: type: unit: level:
  year:2023  year:2020..2024   filter by year or a range of years
Chinese field names work too: 标题: 网站: 类型: 单位: 年份:
A single character (e.g. 廉) and any part of a word (e.g. 素保) can be searched.
Scope: 同段 (paragraph, default) or 同句 (sentence): all terms within one sentence."""

_OPEN_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』", "”": "”"}
_FIELD_RE = re.compile(r"^([A-Za-z]+|[\u4e00-\u9fff]{1,2})[:：](.*)$", re.S)
_YEAR_RE = re.compile(r"^(\d{4})?(?:\s*(\.\.|-|~|～|至|到)\s*(\d{4})?)?$")


@dataclass
class Term:
    """One thing to find: `text` as typed; `exact` if quoted (no scattered matches)."""

    text: str
    exact: bool = False

    @property
    def folded(self) -> str:
        return fold(self.text)

    @property
    def is_char(self) -> bool:
        runs = RUN.findall(self.folded)
        return len(runs) == 1 and len(runs[0]) == 1


@dataclass
class Clause:
    """A required clause: any of its alternatives (OR) must match."""

    alternatives: list[Term]


@dataclass
class Query:
    clauses: list[Clause] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    text: str = ""

    @property
    def positive_terms(self) -> list[Term]:
        return [t for c in self.clauses for t in c.alternatives]

    def highlight_terms(self) -> list[str]:
        seen, out = set(), []
        for t in self.positive_terms:
            if t.text not in seen:
                seen.add(t.text)
                out.append(t.text)
        return out


def _lex(text: str) -> list[tuple[str, str]]:
    """-> [(kind, value)]: kind in word, phrase, neg_word, neg_phrase, or, field."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace() or c == "\u3000":
            i += 1
            continue
        neg = False
        if c in "-－" and i + 1 < n and not text[i + 1].isspace():
            neg = True
            i += 1
            c = text[i]
        if c in _OPEN_QUOTES:
            close = _OPEN_QUOTES[c]
            j = text.find(close, i + 1)
            if j < 0 and c == '"':
                raise QueryError(f'unbalanced quote in {text!r}: close the phrase with another "',
                                 zh='引号没有配对：请在短语末尾再加一个 "（或用中文引号“…”）')
            if j < 0:
                raise QueryError(f"unbalanced quote {c} in {text!r}: close the phrase with {close}",
                                 zh=f"引号 {c} 没有配对：请用 {close} 结束短语")
            phrase = text[i + 1:j].strip()
            if not phrase:
                raise QueryError("empty phrase \"\": put the words to find between the quotes",
                                 zh="引号里是空的：请把要找的短语写在引号中间")
            out.append(("neg_phrase" if neg else "phrase", phrase))
            i = j + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != "\u3000" and text[j] not in '"“「『':
            j += 1
        word = text[i:j]
        i = j
        if not neg and word in ("OR", "|", "｜"):
            out.append(("or", word))
            continue
        if not neg and ("|" in word or "｜" in word) and not _FIELD_RE.match(word):  # 要素保障|营商环境
            for k, part in enumerate(re.split("[|｜]", word)):
                if k:
                    out.append(("or", "|"))
                if part:
                    out.append(("word", part))
            continue
        m = _FIELD_RE.match(word)
        if m and not neg:
            name, value = m.group(1), m.group(2)
            key = FIELD_ALIASES.get(name.lower())
            if key is None:
                if re.match(r"^[A-Za-z]+$", name):
                    raise QueryError(f"unknown field '{name}:' — use one of: " + ", ".join(f + ":" for f in FIELDS),
                                     zh=f"不认识的筛选字段「{name}:」：可用 标题: 网站: 类型: 单位: 层级: 年份:")
                out.append(("word", word))  # e.g. 指出：xx (a colon in Chinese text)
                continue
            if not value:
                # field:"quoted value"
                if i < n and text[i] in _OPEN_QUOTES:
                    close = _OPEN_QUOTES[text[i]]
                    k = text.find(close, i + 1)
                    if k < 0:
                        raise QueryError(f"unbalanced quote after {name}:", zh=f"「{name}:」后的引号没有配对")
                    value = text[i + 1:k].strip()
                    i = k + 1
            if not value:
                raise QueryError(f"'{name}:' needs a value, e.g. {name}:2023", zh=f"「{name}:」后面缺少要筛选的内容")
            out.append(("field", f"{key}\x00{value}"))
            continue
        out.append(("neg_word" if neg else "word", word))
    return out


def parse_year(value: str) -> tuple[int, int]:
    m = _YEAR_RE.match(value.strip())
    if not m or not (m.group(1) or m.group(3)):
        raise QueryError(f"year:{value} is not a year or range: use year:2023 or year:2020..2024",
                         zh=f"「{value}」不是年份：请写成 2023 或 2020..2024")
    lo = int(m.group(1)) if m.group(1) else 0
    hi = int(m.group(3)) if m.group(3) else (9999 if m.group(2) else lo)
    if not m.group(2):
        hi = lo
    if lo > hi:
        raise QueryError(f"year range {value} runs backwards: use year:{hi}..{lo}",
                         zh=f"年份范围 {value} 前后颠倒：请写成 {hi}..{lo}")
    return lo, hi


def parse(text: str, *, max_chars: int = 500, filters: dict[str, str] | None = None) -> Query:
    """Parse a query (plus extra filters from the UI, same keys as the query language)."""
    if text is None:
        text = ""
    text = _strip_invisible(text)  # the stored text has none (corpus.cleaning): 要\u200c素保障 finds 要素保障
    if len(text) > max_chars:
        raise QueryError(f"query too long ({len(text)} characters; the limit is {max_chars}): shorten it",
                         zh=f"查询过长：{len(text)} 字，最多 {max_chars} 字。请缩短后重试。")
    q = Query(text=text)
    pending_or = False
    for kind, value in _lex(text.strip()):
        if kind == "or":
            if not q.clauses or pending_or:
                raise QueryError("OR needs a word on each side, e.g. 双招双引 OR 招商引资",
                                 zh="OR（或 |）两边都要有词，例如：双招双引 OR 招商引资")
            pending_or = True
            continue
        if kind == "field":
            key, val = value.split("\x00", 1)
            if key == "year":
                parse_year(val)
            q.filters.setdefault(key, []).append(val)
            continue
        term = Term(value, exact=kind in ("phrase", "neg_phrase"))
        if not RUN.search(term.folded):
            if kind.startswith("neg") or pending_or:
                raise QueryError(f"nothing searchable in {value!r}: use letters, digits or Chinese characters",
                                 zh=f"「{value}」里没有可检索的字：请用汉字、字母或数字")
            continue  # lone punctuation: ignore
        if kind.startswith("neg"):
            q.excluded.append(term)
        elif pending_or:
            q.clauses[-1].alternatives.append(term)
            pending_or = False
        else:
            q.clauses.append(Clause([term]))
    if pending_or:
        raise QueryError("OR needs a word on each side, e.g. 双招双引 OR 招商引资",
                                 zh="OR（或 |）两边都要有词，例如：双招双引 OR 招商引资")
    for key, val in (filters or {}).items():
        if val in (None, ""):
            continue
        key2 = FIELD_ALIASES.get(str(key).lower())
        if key2 is None:
            raise QueryError(f"unknown filter '{key}': use one of {', '.join(FIELDS)}",
                             zh=f"不认识的筛选条件「{key}」")
        vals = val if isinstance(val, (list, tuple)) else [val]
        for v in vals:
            v = str(v)
            if key2 == "year":
                parse_year(v)
            q.filters.setdefault(key2, []).append(v)
    if not q.clauses:
        if q.excluded or q.filters:
            raise QueryError("add at least one word to find: exclusions and filters only narrow a search",
                             zh="请至少输入一个要找的词：排除词和筛选条件只能缩小范围")
        raise QueryError("empty query: type a word or \"phrase\" to find", zh="查询是空的：请输入要找的词或短语")
    return q
