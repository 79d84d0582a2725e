"""Decoding what Chinese sites serve: declared, undeclared, wrongly declared, slightly broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.encoding import declared_charset, decode_bytes
from corpus.errors import InputError

TEXT = "在全市重点项目建设推进会议上的讲话。同志们：要强化要素保障，土地、资金、用工等要素跟着项目走。"


@pytest.mark.parametrize("enc", ["gbk", "gb2312", "gb18030"])
def test_gb_family_without_declaration(enc):
    text, used = decode_bytes(TEXT.encode(enc))
    assert text == TEXT and used == "gb18030"


def test_wrong_declaration_is_overruled():
    html = f'<html><head><meta charset="utf-8"></head><body>{TEXT}</body></html>'.encode("gbk")
    text, _ = decode_bytes(html, declared=declared_charset(html))
    assert TEXT in text


def test_declared_big5_is_honoured():
    trad = "政府工作報告"
    html = f'<meta http-equiv="Content-Type" content="text/html; charset=big5">{trad}'.encode("big5")
    assert declared_charset(html) == "big5"
    text, used = decode_bytes(html, declared="big5")
    assert trad in text and used == "big5"


def test_one_broken_byte_in_a_long_gb_text():
    data = (TEXT * 40).encode("gbk")
    data = data[:300] + b"\x80" + data[300:-1]  # a stray byte between characters, and a cut-off last character
    text, used = decode_bytes(data)
    assert used.startswith("gb18030") and text.count("要素保障") >= 39


def test_xml_style_declaration_anywhere_near_the_top():
    data = b'<text encoding="gb2312">' + TEXT.encode("gb2312")
    assert declared_charset(data) == "gb2312"


def test_binary_is_refused():
    with pytest.raises(InputError, match="binary"):
        decode_bytes(bytes(range(256)) * 10, name="x.bin")


def test_utf8_bom():
    assert decode_bytes(b"\xef\xbb\xbf" + TEXT.encode())[0] == TEXT


# --- a BOM or a declaration is a hint, not a proof; damage is refused, not stored -----------------

LONG = TEXT * 20


def test_gb18030_behind_a_utf8_bom_is_decoded_as_gb18030():
    data = b"\xef\xbb\xbf" + LONG.encode("gb18030")
    text, used = decode_bytes(data, name="bom.txt")
    assert text == LONG and used == "gb18030+bom"
    assert "\ufffd" not in text


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(enc):
    text, used = decode_bytes(("标题\n" + LONG + "\n").encode(enc), name="u16.txt")
    assert text == "标题\n" + LONG + "\n" and used == enc
    # Chinese only, no ASCII at all (no NUL bytes to go by)
    text, used = decode_bytes(LONG.encode(enc), name="u16.txt")
    assert text == LONG and used == enc


def test_utf16_with_bom_still_works():
    assert decode_bytes(LONG.encode("utf-16"))[0] == LONG


def test_mixed_utf8_and_gb18030_lines_are_each_decoded():
    data = ("第一部分\n" + TEXT + "\n").encode("utf-8") + ("第二部分\n" + TEXT + "\n").encode("gb18030")
    text, used = decode_bytes(data, name="mixed.txt")
    assert text == "第一部分\n" + TEXT + "\n第二部分\n" + TEXT + "\n"
    assert "mixed" in used


def test_badly_damaged_text_is_refused_naming_the_file():
    good = LONG.encode("utf-8")
    data = bytearray(good)
    for i in range(0, len(data), 7):
        data[i] = 0xFF  # one byte in seven broken: no candidate decodes it without damage
    with pytest.raises(InputError, match=r"damaged\.txt: cannot be decoded without damage"):
        decode_bytes(bytes(data), name="damaged.txt")


def test_gb2312_full_width_space_code_is_not_private_use():
    # GB2312 pages write the undefined code A3A0 for a full-width space (cwce gold pages)
    data = TEXT.encode("gb2312") + b"\xa3\xa0" + TEXT.encode("gb2312")
    text, used = decode_bytes(data)
    assert text == TEXT + "\u3000" + TEXT and used == "gb18030"


def test_one_html_decoder_for_files_extraction_and_crawler():
    from corpus import html as corpus_html
    from corpus.encoding import decode_html

    page = f'<html><head><meta charset="iso-8859-1"></head><body><p>{TEXT}</p></body></html>'.encode("gbk")
    assert decode_html(page)[0] == corpus_html.decode_html(page)[0]
    assert TEXT in decode_html(page)[0]
    assert corpus_html.decode_html is decode_html
    crawl = (Path(__file__).parents[1] / "scrapers" / "crawl.py").read_text(encoding="utf-8")
    assert "from corpus.encoding import decode_html" in crawl  # the crawler decodes with it too
