"""What a semantic hit shows as its best sentence: never a copy of the whole paragraph."""

from indexer.query import parse
from indexer.search.hits import best_sentence as _best_sentence

PARA = ("今年省人代会报告提出要建立要素资源跟着项目走的综合保障机制。对重点工程项目，要优先保障用地指标。"
        "对后续谋划的项目，利用占补平衡、腾笼换业等政策机遇，提前争取建设用地指标。")


def test_window_equal_to_the_paragraph_single_sentence_is_dropped():
    short = "强化要素保障，为项目建设提供有力支撑。"
    assert _best_sentence(short, short, parse("要素保障")) is None


def test_the_sentence_sharing_the_query_is_chosen_within_the_window():
    assert _best_sentence(PARA, PARA, parse("用地指标")) == "对重点工程项目，要优先保障用地指标。"


def test_no_window_no_sentence():
    assert _best_sentence(PARA, None, parse("用地")) is None
