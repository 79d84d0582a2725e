"""The analyzer: folding keeps offsets, jieba words and char bigrams get sequential positions,
the policy dictionary keeps slogans whole, a user dictionary extends it."""

from __future__ import annotations

from indexer.analysis import (
    char_terms,
    configure,
    fine_words,
    fold,
    query_char_terms,
    sentence_bounds,
)
from indexer.facets import unit_level
from indexer.terms import dictionary_version, get_tokenizer, load_terms, shipped_version
from indexer.whoosh_compat import BigramTokenizer, JiebaTokenizer

TEXT = "坚持要素保障跟着项目走，深化“放管服”改革，推进双招双引和三区同建。"


def test_fold_keeps_length_and_maps_traditional_and_width():
    s = "營商環境ＡＢＣ１２３　GDP"
    f = fold(s)
    assert len(f) == len(s)
    assert f == "营商环境abc123 gdp"


def test_jieba_tokens_have_sequential_positions_and_true_offsets():
    configure(None)
    toks = [(t.text, t.pos, t.startchar, t.endchar) for t in JiebaTokenizer()(TEXT, positions=True, chars=True)]
    assert [p for _, p, _, _ in toks] == list(range(len(toks)))
    for text, _, s, e in toks:
        assert TEXT[s:e] == text
    words = [t[0] for t in toks]
    for term in ("要素保障", "放管服", "双招双引", "三区同建"):
        assert term in words, f"{term} should stay one token with the policy dictionary"


def test_bigram_stream_positions_offsets_and_runs():
    toks = [(t.text, t.pos, t.startchar, t.endchar) for t in BigramTokenizer()("要素，保障", positions=True, chars=True)]
    assert toks == [("要素", 0, 0, 2), ("素", 1, 1, 2), ("保障", 2, 3, 5), ("障", 3, 4, 5)]
    assert char_terms("abc") == ["ab", "bc", "c"]
    assert query_char_terms("要素保障") == ["要素", "素保", "保障"]
    assert query_char_terms("廉") == ["廉"]


def test_fine_words_split_dictionary_terms_for_scattered_matches():
    tk = get_tokenizer(None)
    assert fine_words("要素保障", tk) == ["要素", "保障"]
    assert fine_words("双招双引", tk) == ["双招双引"]  # no sub-words to split into


def test_sentence_bounds():
    text = "第一句。第二句！“第三句？”尾巴"
    assert [text[s:e] for s, e in sentence_bounds(text)] == ["第一句。", "第二句！", "“第三句？”", "尾巴"]


def test_shipped_dictionary_is_versioned_and_large(tmp_path):
    terms = [t for t, _, _ in load_terms()]
    assert len(terms) >= 300
    for t in ("双招双引", "要素保障", "三区同建", "放管服", "百千万工程", "营商环境", "新质生产力"):
        assert t in terms
    assert shipped_version() != "0"


def test_user_dictionary_extends_and_changes_version(tmp_path):
    from corpus.settings import Settings

    user = tmp_path / "mine.txt"
    user.write_text("# mine\n飞地抱团 100 n\n", encoding="utf-8")
    s = Settings(data_dir=tmp_path / "d", user_dict=user)
    assert "飞地抱团" in [t for t, _, _ in load_terms(s)]
    assert dictionary_version(s) != dictionary_version(None)
    assert "飞地抱团" in get_tokenizer(s).lcut("推进飞地抱团发展")
    assert (tmp_path / "d" / "cache" / "jieba.cache").exists()


def test_unit_levels():
    cases = {"xx区": "区", "市发改委": "市", "山东省商务厅": "省", "xx县xx镇": "乡镇", "市市场监管局": "市",
             "国务院": "中央", "某某社区": None, "广西壮族自治区": "省", None: None}
    for unit, level in cases.items():
        assert unit_level(unit) == level, unit
