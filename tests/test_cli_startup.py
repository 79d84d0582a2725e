"""What keeps a command-line search quick: only the invoked command's module is imported, queries
are cut from the compact dictionary (same cuts as the full jieba dictionary), and a keyword search
loads neither the full dictionary, nor Whoosh, nor the cleaner's rules, nor torch."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLE

from corpus.cli import COMMAND_MODULES, MODULES, main
from corpus.ingest import ingest_paths
from corpus.settings import Settings
from indexer import terms
from indexer.analysis import fold, word_terms
from indexer.keyword import build_index

ROOT = Path(__file__).resolve().parents[1]


def test_the_command_table_names_every_command_of_every_module():
    found = {}
    for name in MODULES:
        for command in importlib.import_module(f"corpus.cli.{name}").commands:
            found[command.name] = name
    assert found == COMMAND_MODULES
    listed = CliRunner().invoke(main, ["--help"]).output
    assert all(f"  {name} " in listed for name in found)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Settings:
    s = Settings(data_dir=tmp_path_factory.mktemp("startup") / "data", semantic=False)
    ingest_paths(s, [SAMPLE])
    build_index(s)
    return s


def test_query_tokenizer_cuts_exactly_like_the_full_dictionary(indexed, tmp_path):
    user = tmp_path / "mine.txt"
    user.write_text("三区同建\n岚峤共建 300000\n", encoding="utf-8")
    for s in (indexed, Settings(data_dir=indexed.data_dir, user_dict=user)):
        terms._tokenizers.clear()
        terms._query_tokenizers.clear()
        full = terms.get_tokenizer(s)  # writes the compact dictionary of this version
        terms._tokenizers.clear()
        compact = terms.query_tokenizer(s)
        assert isinstance(compact.FREQ, terms.CompactFreq)
        texts = [fold(line) for f in sorted(SAMPLE.glob("*.txt"))
                 for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
        texts += ["要素保障跟着项目走", "深入开展双招双引", "三区同建", "推行岚峤共建", "abc 123 ＡＢＣ", "", "　"]
        assert [compact.lcut(t) for t in texts] == [full.lcut(t) for t in texts]
        assert list(compact.tokenize("推行岚峤共建")) == list(full.tokenize("推行岚峤共建"))
        assert ("岚峤共建" in compact.FREQ) == (s.user_dict is not None)
        assert ("岚峤共建" in compact.lcut("推行岚峤共建")) == (s.user_dict is not None)
        assert compact.FREQ.get("不存在的词语组合") is None and "要素" in compact.FREQ
    terms._tokenizers.clear()
    terms._query_tokenizers.clear()


def test_a_keyword_search_process_loads_only_what_it_needs(indexed):
    probe = (
        "import sys, json\n"
        "from corpus.cli import main\n"
        "try:\n"
        f"    main(['--data', {str(indexed.data_dir)!r}, 'search', '要素 保障', '--mode', 'keyword', '--json'],"
        " standalone_mode=False)\n"
        "finally:\n"
        "    from indexer import terms\n"
        "    print(json.dumps({'full_dictionary': bool(terms._tokenizers),"
        " 'modules': sorted(m for m in ('torch', 'whoosh', 'corpus.cleaning.rules', 'onnxruntime',"
        " 'corpus.cli.web_cmds', 'corpus.cli.ingest_cmds') if m in sys.modules)}), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total"] >= 1
    loaded = json.loads(out.stderr.strip().splitlines()[-1])
    assert loaded == {"full_dictionary": False, "modules": []}



def test_index_tokenizer_cuts_exactly_like_jieba(tmp_path):
    """Index builds cut with rjieba (when installed) and queries with jieba: the cuts must be the same,
    policy terms, a user dictionary and jieba's ASCII pieces included."""
    pytest.importorskip("rjieba")
    user = tmp_path / "mine.txt"
    user.write_text("岚峤共建\n", encoding="utf-8")
    s = Settings(data_dir=tmp_path / "data", user_dict=user)
    fast, jieba_tk = terms.index_tokenizer(s), terms.get_tokenizer(s)
    assert isinstance(fast, terms.RJiebaTokenizer)
    texts = [fold(line) for f in sorted(SAMPLE.glob("*.txt"))
             for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += ["推行岚峤共建，深入开展双招双引", "GB/T 40648-2021 标准", "1949-2024年", "第2.4.1条", "www.gov.cn/zhengce",
              "e-learning 平台", "增长8.1zb和50%以上", "iPhone14Pro", "A.Obuchowski 与 K.McClish", "", "　"]
    assert [word_terms(t, fast) for t in texts] == [word_terms(t, jieba_tk) for t in texts]  # what the index keeps
    assert [fast.lcut(t) for t in texts] == [jieba_tk.lcut(t) for t in texts]
