"""The query language parser: what each construct means, and clear errors for bad input."""

from __future__ import annotations

import pytest

from corpus.errors import QueryError
from indexer.query import HELP, parse, parse_year


def test_words_phrases_excludes_or_and_fields():
    q = parse('要素保障 "跟着项目走" -招商 -"三区 共建" 双招双引 OR 招商引资 title:讲话 year:2020..2024 site:wm114')
    assert [[t.text for t in c.alternatives] for c in q.clauses] == [["要素保障"], ["跟着项目走"], ["双招双引", "招商引资"]]
    assert q.clauses[1].alternatives[0].exact and not q.clauses[0].alternatives[0].exact
    assert [t.text for t in q.excluded] == ["招商", "三区 共建"]
    assert q.filters == {"title": ["讲话"], "year": ["2020..2024"], "site": ["wm114"]}


def test_chinese_quotes_and_field_names_and_extra_filters():
    q = parse("“要素保障” 单位：xx区", filters={"year": "2023", "type": ""})
    assert q.clauses[0].alternatives[0].exact and q.clauses[0].alternatives[0].text == "要素保障"
    assert q.filters == {"unit": ["xx区"], "year": ["2023"]}


def test_colon_inside_chinese_text_is_not_a_field():
    q = parse("总书记指出：要")
    assert q.clauses[0].alternatives[0].text == "总书记指出：要"


def test_years():
    assert parse_year("2023") == (2023, 2023)
    assert parse_year("2020..2024") == (2020, 2024)
    assert parse_year("2020-2024") == (2020, 2024)
    assert parse_year("2020..") == (2020, 9999)
    with pytest.raises(QueryError):
        parse_year("2024..2020")
    with pytest.raises(QueryError):
        parse_year("twenty")


@pytest.mark.parametrize("text,msg", [
    ('"要素', "unbalanced"), ("“要素", "unbalanced"), ("foo:bar 项目", "unknown field"), ("-项目", "at least one word"),
    ("year:2023", "at least one word"), ("项目 OR", "OR needs"), ("OR 项目", "OR needs"), ("", "empty"),
    ('""', "empty phrase"), ("title: 项目", "needs a value"),
])
def test_errors(text, msg):
    with pytest.raises(QueryError, match=msg):
        parse(text)


def test_too_long():
    with pytest.raises(QueryError, match="too long"):
        parse("字" * 11, max_chars=10)


def test_help_text_documents_every_construct():
    for part in ('"', "-", "OR", "title:", "site:", "type:", "unit:", "year:2020..2024", "同句", "同段"):
        assert part in HELP


def test_every_face_offers_the_same_filters():
    """The filter keys are the query language's fields: the CLI options, the web's URL keys and the
    search request all use that one list (a filter added in one place and not another is a bug)."""
    import click

    from corpus.cli import common, search_cmds
    from corpus.cli.export_cmds import export
    from indexer.query import FIELDS
    from webui import params

    assert {k for k, _opt, _help in common.FILTER_OPTIONS} == set(FIELDS)
    assert params.FILTER_KEYS == FIELDS
    for cmd in (search_cmds.search_cmd, search_cmds.kwic_cmd, export):
        names = {p.name for p in cmd.params if isinstance(p, click.Option)}
        assert {f"filter_{k}" for k in FIELDS} <= names, cmd.name
