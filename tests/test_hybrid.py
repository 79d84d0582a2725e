"""Reciprocal rank fusion: agreement wins, either side alone still counts, k and duplicates respected."""

from indexer.search.hybrid import fuse


def test_paragraph_found_by_both_rankings_comes_first():
    keyword = [(1, 12.0), (2, 9.0), (3, 4.0)]
    semantic = [(4, 0.91), (3, 0.90), (5, 0.89)]
    fused = fuse(keyword, semantic, 10)
    assert fused[0][0] == 3
    assert {p for p, _ in fused} == {1, 2, 3, 4, 5}


def test_scores_are_not_mixed_only_ranks():
    # a huge BM25 score must not outweigh rank: first places on each side tie, keyword breaks the tie
    fused = fuse([(1, 1e6)], [(2, 0.5)], 2)
    assert [p for p, _ in fused] == [1, 2]
    assert fused[0][1] == fused[1][1]


def test_k_limits_and_duplicates_count_once():
    keyword = [(1, 3.0), (1, 2.0), (2, 1.0)]
    fused = fuse(keyword, [], 1)
    assert fused == [(1, fuse([(1, 3.0)], [], 1)[0][1])]
    assert fuse([], [], 5) == []
    assert fuse([(1, 1.0)], [(2, 1.0)], 0) == []


def test_one_side_empty_keeps_the_other_order():
    semantic = [(7, 0.9), (8, 0.8), (9, 0.7)]
    assert [p for p, _ in fuse([], semantic, 3)] == [7, 8, 9]
