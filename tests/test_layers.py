"""The layers of ARCHITECTURE.md, checked on the source: a forbidden import fails this test.

Every import statement is read with `ast` (module level and inside functions, relative imports
resolved), so a lazy `from indexer.search import ...` inside a function of `corpus/` counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> top-level names (or dotted prefixes) its modules must not import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "corpus": ("indexer", "webui", "scrapers", "corpus.cli"),  # the ground floor (corpus/cli/ is the face, exempt)
    "indexer": ("webui", "scrapers", "corpus.cli"),
    "scrapers": ("indexer", "webui", "corpus.cli"),
    "webui": ("scrapers", "corpus.cli"),
}
EXEMPT = ("corpus/cli/", "corpus/__main__.py")  # the command line may import every layer


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in `source`, relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            # `from corpus import cli` / `from . import cli` imports the submodule too
            out += [(node.lineno, f"{target}.{a.name}") for a in node.names if a.name != "*"]
    return out


def violations(path: Path, source: str | None = None) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    top = rel.split("/", 1)[0]
    if top not in FORBIDDEN or rel.startswith(EXEMPT):
        return []
    source = path.read_text(encoding="utf-8") if source is None else source
    found = []
    for line, name in imported_modules(source, module_name(path), path.name == "__init__.py"):
        for bad in FORBIDDEN[top]:
            if name == bad or name.startswith(bad + "."):
                found.append(f"{rel}:{line} imports {name} ({top}/ must not import {bad})")
                break
    return found


def source_files() -> list[Path]:
    return sorted(p for top in FORBIDDEN for p in (ROOT / top).rglob("*.py"))


def test_no_layer_imports_a_layer_above_it():
    files = source_files()
    assert len(files) > 40  # the walk found the packages
    problems = [v for p in files for v in violations(p)]
    assert problems == [], "forbidden imports (see ARCHITECTURE.md):\n" + "\n".join(problems)


@pytest.mark.parametrize(("where", "source"), [
    ("corpus/ingest.py", "from indexer.search import search\n"),
    ("corpus/ingest.py", "def f():\n    import scrapers.crawl\n"),
    ("corpus/cleaning/clean.py", "from ...webui import create_app\n"),
    ("corpus/store.py", "from . import cli\n"),
    ("indexer/search.py", "from webui.params import parse\n"),
    ("scrapers/crawl.py", "from indexer import keyword\n"),
    ("webui/views.py", "from corpus.cli.common import pad\n"),
])
def test_the_check_catches_a_forbidden_import(where, source):
    assert violations(ROOT / where, source), f"{where}: {source!r} should be refused"


@pytest.mark.parametrize(("where", "source"), [
    ("corpus/ingest.py", "from .sites import extract_for\nfrom corpus.store import Store\nimport lxml.html\n"),
    ("corpus/cli/export_cmds.py", "from indexer import export\nfrom scrapers.crawl import crawl_site\n"),
    ("indexer/export.py", "from corpus.tabular import FORMATS\nfrom .search import iter_hits\n"),
    ("webui/exporting.py", "from indexer.export import export_results\n"),
])
def test_allowed_imports_pass(where, source):
    assert violations(ROOT / where, source) == []
