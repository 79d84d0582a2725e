"""Checks for rules kept as data: a malformed rule fails loudly at start-up, not quietly on a page.

The cleaner's line rules (`corpus/cleaning/rules.py`), the HTML extraction rules
(`corpus/html_rules.py`) and the site profiles (`corpus/sites/`) are data. Python only checks that
they parse; these checks catch what would otherwise go wrong silently, one page at a time:
- a regular expression that does not compile (named: which rule set, which rule);
- a pattern that matches the empty string: as a line rule it would remove every line;
- a bare string where a tuple of patterns or selectors is meant (Python would iterate its
  characters: "h1" would become the selectors "h", "1");
- a CSS selector lxml cannot compile;
- a rule name that is not a dotted `family.rule` (the name `corpus clean --explain` shows).

Each check raises `RuleError` with one line naming the rule set, the rule and the problem. They run
when the rules module is imported, as trafilatura compiles its XPath expressions at import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_RULE_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")


class RuleError(ValueError):
    """A rule kept as data is malformed."""


def check_regex(where: str, pattern, *, flags: int = 0, may_match_empty: bool = False) -> re.Pattern:
    """`pattern` (a string or a compiled pattern) compiled; RuleError if it does not compile or matches ''."""
    if isinstance(pattern, re.Pattern):
        rx = pattern
    elif isinstance(pattern, str):
        try:
            rx = re.compile(pattern, flags)
        except re.error as e:
            raise RuleError(f"{where}: pattern {pattern!r} does not compile: {e}") from None
    else:
        raise RuleError(f"{where}: a pattern must be a string, not {type(pattern).__name__} {pattern!r}")
    if not may_match_empty and rx.search("") is not None:
        raise RuleError(f"{where}: pattern {rx.pattern!r} matches the empty string (it would match every line)")
    return rx


def check_regexes(where: str, patterns: Iterable, *, flags: int = 0, may_match_empty: bool = False) -> list[re.Pattern]:
    if isinstance(patterns, str | bytes):
        raise RuleError(f"{where}: expected a list or tuple of patterns, got the single string {patterns!r}")
    return [check_regex(f"{where}[{i}]", p, flags=flags, may_match_empty=may_match_empty)
            for i, p in enumerate(patterns)]


def check_named_rules(where: str, rules: Iterable) -> None:
    """[(rule name, pattern)]: every name dotted (family.rule), every pattern compiling and non-empty."""
    for i, rule in enumerate(rules):
        if not (isinstance(rule, tuple) and len(rule) == 2):
            raise RuleError(f"{where}[{i}]: a rule is a (name, pattern) pair, not {rule!r}")
        name, pattern = rule
        if not isinstance(name, str) or not _RULE_NAME.fullmatch(name):
            raise RuleError(f"{where}[{i}]: rule name {name!r} is not a dotted family.rule name")
        check_regex(f"{where}[{i}] {name}", pattern)


def compile_table(where: str, pairs: Iterable, *, flags: int = 0) -> list[tuple[re.Pattern, str]]:
    """[(pattern, name)] -> [(compiled pattern, name)], each pair and pattern checked."""
    out = []
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], str) and pair[1]):
            raise RuleError(f"{where}[{i}]: expected (pattern, name), got {pair!r}")
        out.append((check_regex(f"{where}[{i}] {pair[1]}", pair[0], flags=flags), pair[1]))
    return out


def check_strings(where: str, values, *, allow_empty_list: bool = True) -> tuple[str, ...]:
    """A tuple/list of non-empty strings (a bare string is refused: it would be iterated by character)."""
    if isinstance(values, str | bytes) or not isinstance(values, tuple | list):
        raise RuleError(f"{where}: expected a tuple of strings, got {type(values).__name__} {values!r}")
    for i, v in enumerate(values):
        if not isinstance(v, str) or not v.strip():
            raise RuleError(f"{where}[{i}]: expected a non-empty string, got {v!r}")
    if not values and not allow_empty_list:
        raise RuleError(f"{where}: must not be empty")
    return tuple(values)


def check_selectors(where: str, selectors) -> None:
    """CSS selectors (lxml + cssselect), each compiling."""
    from lxml.cssselect import CSSSelector, SelectorError

    for i, sel in enumerate(check_strings(where, selectors)):
        try:
            CSSSelector(sel)
        except (SelectorError, ValueError, TypeError) as e:
            raise RuleError(f"{where}[{i}]: CSS selector {sel!r} does not compile: {e}") from None
