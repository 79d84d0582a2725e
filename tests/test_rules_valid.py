"""Rules kept as data are checked at import: a malformed rule fails loudly at start-up, naming itself.

Each case takes a real rules module's source, breaks one rule the way an edit could, and imports it:
the import must raise RuleError with a message naming the rule set and the rule.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import pytest

import corpus
from corpus.rulecheck import RuleError
from corpus.sites import ADAPTERS

ROOT = Path(corpus.__file__).parent


def import_source(path: Path, package: str, edit: tuple[str, str]):
    """Import the module at `path` with one text edit applied, as if the file had been changed."""
    src = path.read_text(encoding="utf-8")
    old, new = edit
    assert src.count(old) == 1, f"the edit anchor {old!r} must occur once in {path.name}"
    spec = importlib.util.spec_from_loader(f"{package}._edited_{path.stem}", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = package
    module.__file__ = str(path)
    exec(compile(src.replace(old, new), str(path), "exec"), module.__dict__)
    return module


def test_the_shipped_rules_pass():
    for path, package in ((ROOT / "cleaning" / "rules.py", "corpus.cleaning"), (ROOT / "html_rules.py", "corpus")):
        import_source(path, package, ("from __future__ import annotations", "from __future__ import annotations"))
    assert set(ADAPTERS) >= {"wm114", "fanwy", "rulaiwenku", "12371", "generic"}


LINES = "LINE_RULES: list[tuple[str, str]] = ["


@pytest.mark.parametrize(("bad", "message"), [
    ('("chrome.broken", r"^(?:首页"),', "does not compile"),
    ('("chrome.anything", r"(?:广告)?"),', "matches the empty string"),
    ('("Chrome Footer", r"^页脚$"),', "not a dotted family.rule name"),
    ('("chrome.footer", r"^页脚$", "extra"),', "(name, pattern) pair"),
])
def test_a_broken_cleaning_line_rule_fails_the_import(bad, message):
    with pytest.raises(RuleError, match=re.escape(message)) as e:
        import_source(ROOT / "cleaning" / "rules.py", "corpus.cleaning", (LINES, LINES + "\n    " + bad))
    assert "cleaning LINE_RULES[0]" in str(e.value)


def test_other_cleaning_tables_are_checked():
    with pytest.raises(RuleError, match=r"cleaning DOC_TYPES\[0\] 讲话: pattern .* does not compile"):
        import_source(ROOT / "cleaning" / "rules.py", "corpus.cleaning",
                      ('(r"讲话稿|讲话|演讲|主旨演讲|报告会上的", "讲话")', '(r"讲话稿|讲话(", "讲话")'))
    with pytest.raises(RuleError, match=r"HEADING_PATTERNS\[5\]: level 9"):
        import_source(ROOT / "cleaning" / "rules.py", "corpus.cleaning",
                      (r'(re.compile(r"^\d{1,2}\s*[\.．、](?!\d)"), 3)', r'(re.compile(r"^\d{1,2}\s*[\.．、](?!\d)"), 9)'))


def test_a_broken_html_chrome_line_fails_the_import():
    with pytest.raises(RuleError, match=r"html CHROME_LINES\[0\]: pattern .* does not compile"):
        import_source(ROOT / "html_rules.py", "corpus", ("_CHROME_LINES = [", '_CHROME_LINES = [\n    r"^(?:上一篇",'))
    with pytest.raises(RuleError, match=r"html CHROME_LINES\[0\]: .*matches the empty string"):
        import_source(ROOT / "html_rules.py", "corpus", ("_CHROME_LINES = [", '_CHROME_LINES = [\n    r"\\s*",'))


@pytest.mark.parametrize(("edit", "message"), [
    (('body=("div#content",', 'body=("div#content[",'), "site profile 'wm114'.body[0]: CSS selector"),
    (('title=("h1.title", "div.title h1", "h1"),', 'title="h1",'), "site profile 'wm114'.title: expected a tuple"),
    (('drop_lines=(r"^您的位置', 'drop_lines=(r"(?:x)?", r"^您的位置'), "'wm114'.drop_lines[0]: pattern"),
    (('tail_cut=(r"^文章搜索$",', 'tail_cut=(r"^文章搜索($",'), "'wm114'.tail_cut[0]: pattern"),
    (('hosts=("wm114.cn",),', 'hosts=("http://wm114.cn/",),'), "is not a lower-case host name"),
    (('structure="assumed",', 'structure="guessed",'), "structure 'guessed' is not one of"),
])
def test_a_broken_site_profile_fails_the_import(edit, message):
    with pytest.raises(RuleError, match=re.escape(message)):
        import_source(ROOT / "sites" / "wm114.py", "corpus.sites", edit)


def test_site_profiles_are_checked_however_they_are_built():
    good = ADAPTERS["fanwy"]
    assert dataclasses.replace(good, notes="still fine") is not good
    with pytest.raises(RuleError, match="article_url"):
        dataclasses.replace(good, article_url=(r"/\d+(\.html$",))
