"""Run-time code imports only run-time dependencies: Whoosh (test extra) and the benchmark's
extractors (bench extra) are never imported by the CLI, the web UI or the library at start-up or
while indexing and searching; our Whoosh-compatible field lengths equal Whoosh's own."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NOT_AT_RUN_TIME = ("whoosh", "trafilatura", "readability", "lxml_html_clean", "bs4", "pandas", "playwright", "pytest")


def test_run_time_modules_import_without_test_or_bench_packages(tmp_path):
    """Import every run-time module, ingest the sample, index and search it, with those packages
    made unimportable: any import of them fails the run."""
    code = textwrap.dedent(f"""
        import importlib.abc, sys
        BLOCKED = {NOT_AT_RUN_TIME!r}
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"run-time code imported {{name}}")
        sys.meta_path.insert(0, Block())
        import pkgutil, corpus, indexer, scrapers, webui
        skip = {{"indexer.whoosh_compat", "corpus.__main__"}}  # speaks Whoosh for tests; runs the CLI
        for pkg in (corpus, indexer, scrapers, webui):
            for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
                if m.name not in skip:
                    importlib.import_module(m.name)
        from click.testing import CliRunner
        from corpus.cli import main
        data = {str(tmp_path / "data")!r}
        for args in (["ingest", {str(ROOT / "corpus" / "sample")!r}], ["index", "--no-semantic"],
                     ["search", "要素保障", "--mode", "keyword", "--json"]):
            r = CliRunner().invoke(main, ["--data", data, *args], catch_exceptions=False)
            assert r.exit_code == 0, (args, r.output)
        bad = sorted(n for n in sys.modules if n.split(".")[0] in BLOCKED)
        assert not bad, bad
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout[-2000:] + r.stderr[-4000:]


def test_field_lengths_are_whoosh_lengths():
    from whoosh.util.numeric import byte_to_length as w_b2l
    from whoosh.util.numeric import length_to_byte as w_l2b

    from indexer.lengths import byte_to_length, length_to_byte

    assert length_to_byte(None) == w_l2b(None)
    for n in range(0, 130_000):
        assert length_to_byte(n) == w_l2b(n), n
    assert [byte_to_length(b) for b in range(256)] == [w_b2l(b) for b in range(256)]


def _pyproject() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_package_data_globs_match_real_files_and_cover_every_data_file():
    globs = _pyproject()["tool"]["setuptools"]["package-data"]
    covered: set[Path] = set()
    for package, patterns in globs.items():
        for pattern in patterns:
            found = {p for p in (ROOT / package).glob(pattern) if p.is_file()}
            assert found, f"package-data {package}: {pattern} matches no file"
            covered |= found
    tracked = subprocess.run(["git", "ls-files", "corpus", "indexer", "webui", "scrapers"], cwd=ROOT,
                             capture_output=True, text=True)
    if tracked.returncode != 0:
        return  # not a git checkout (an sdist): the globs were checked above
    data = {ROOT / f for f in tracked.stdout.split() if not f.endswith(".py") and (ROOT / f).exists()}
    assert data - covered == set(), "data files a wheel would leave out"


def test_declared_run_time_dependencies_are_imported_somewhere():
    import re

    # distribution name -> the module it provides, where they differ
    module_of = {"charset-normalizer": "charset_normalizer", "opencc-python-reimplemented": "opencc",
                 "python-docx": "docx", "sentence-transformers": "sentence_transformers",
                 "cssselect": "lxml.cssselect"}  # lxml's CSS selectors are the cssselect package
    sources = "\n".join(p.read_text(encoding="utf-8") for pkg in ("corpus", "indexer", "webui", "scrapers")
                        for p in (ROOT / pkg).rglob("*.py"))
    for req in _pyproject()["project"]["dependencies"]:
        dist = re.split(r"[=<>!~\[ ;]", req, maxsplit=1)[0]
        module = module_of.get(dist, dist.replace("-", "_"))
        assert re.search(rf"^\s*(?:import|from) {re.escape(module)}\b", sources, re.M), f"{dist} is declared but never imported"
