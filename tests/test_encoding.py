"""Decoding what Chinese sites serve: declared, undeclared, wrongly declared, slightly broken."""

from __future__ import annotations

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
