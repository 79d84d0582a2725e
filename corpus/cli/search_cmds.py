"""Commands: index, search, kwic. Parse options, call indexer.*, print; no search logic here."""

from __future__ import annotations

import csv
import os
import sys

import click

from indexer.query import HELP as QUERY_HELP

from .common import echo_json, filter_options, get_settings, handle_errors, show_progress


@click.command("index")
@click.option("--rebuild", is_flag=True, help="Rebuild the keyword index from scratch.")
@click.option("--no-semantic", is_flag=True, help="Only the keyword index; skip the embedding index.")
@click.option("--rebuild-semantic", is_flag=True, help="Re-embed every paragraph (new model or precision).")
@click.option("--status", is_flag=True, help="Show the keyword and embedding indexes' manifests and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--ray", "ray_address", metavar="ADDRESS",
              help="Embed on a Ray cluster: 'auto' (the cluster this machine is part of) or the head's host:port "
                   "(needs pip install -e '.[cluster]'; default: this machine, CORPUS_RAY).")
@handle_errors
def index_cmd(rebuild: bool, no_semantic: bool, rebuild_semantic: bool, status: bool, as_json: bool,
              ray_address: str | None) -> None:
    """Build or update the search indexes from the store (only new, changed and deleted documents).

    A second `corpus index` waits up to settings.lock_timeout seconds, then fails; searching
    while indexing keeps working on the previous index.
    """
    from indexer.keyword import index_status
    from indexer.update import update_indexes

    settings = get_settings()
    if ray_address:
        from dataclasses import replace

        settings = replace(settings, ray_address=ray_address)
    if status:
        from indexer.semantic import semantic_status

        info = index_status(settings)
        sem = semantic_status(settings)
        if as_json:
            echo_json({**info, "semantic": sem})
            return
        if not info.get("exists"):
            click.echo("no keyword index yet: run `corpus index`")
        else:
            click.echo("keyword index:")
            for k in ("format", "analyzer", "dictionary", "documents", "paragraphs", "bytes", "stale"):
                click.echo(f"  {k}: {info.get(k)}")
        if not sem["enabled"]:
            click.echo("embedding index: switched off (settings.semantic / CORPUS_SEMANTIC)")
        elif not sem["exists"]:
            click.echo("embedding index: none yet (run `corpus index` to build it; keyword search works without)")
        else:
            click.echo("embedding index:")
            for k in ("model", "variant", "dim", "documents", "paragraphs", "windows", "bytes", "built_at"):
                click.echo(f"  {k}: {sem.get(k)}")
            if not sem["model_matches"]:
                click.echo(f"  note: built with {sem.get('model')}, configured {settings.model}: "
                           "run `corpus index --rebuild-semantic`")
            elif info.get("exists") and sem.get("documents") != info.get("documents"):
                click.echo(f"  note: {sem.get('documents')} of {info.get('documents')} documents embedded: "
                           "run `corpus index` to catch up")
        return
    report = update_indexes(settings, progress=show_progress(not as_json), semantic=False if no_semantic else None,
                            rebuild=rebuild, rebuild_semantic=rebuild_semantic)
    if as_json:
        echo_json(report.to_json())
    else:
        for line in report.lines():
            click.echo(line)


def _one_blas_thread() -> None:
    """Before numpy is imported: a query's numpy work is small, and OpenBLAS starting a thread per
    core at import costs a command-line search more than it gains (~20 ms CPU, more wall time on a
    busy machine). An explicit OPENBLAS_NUM_THREADS is kept."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _mark(text: str, spans, style: bool) -> str:
    out, last = [], 0
    for s in spans:
        out.append(text[last:s.start])
        frag = text[s.start:s.end]
        out.append(click.style(frag, fg="red", bold=True) if style else f"【{frag}】")
        last = s.end
    out.append(text[last:])
    return "".join(out)


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", "-n", "per_page", default=10, show_default=True, help="Hits per page.")
@click.option("--page", "-p", default=1, show_default=True, help="Page number.")
@click.option("--scope", type=click.Choice(["paragraph", "sentence", "同段", "同句"]), default="paragraph",
              show_default=True, help="All terms within one paragraph (同段) or one sentence (同句).")
@click.option("--mode", type=click.Choice(["keyword", "semantic", "hybrid"]), default=None,
              help="Default: hybrid when an embedding index exists, else keyword.")
@filter_options()
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--no-fold", is_flag=True, help="Show every repost instead of folding them into one hit.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the hits as CSV.")
@click.option("--facets/--no-facets", default=True, help="Show facet counts under the table.")
@click.option("--related/--no-related", default=None,
              help="The separate list of partial and meaning neighbours (never counted in the hits). "
                   "Default: for unquoted words, not for quoted phrases or single characters.")
@handle_errors
def search_cmd(query, per_page, page, scope, mode, filters, sort, no_fold, as_json, as_csv, facets, related) -> None:
    """Search paragraphs. The hits are every paragraph holding the query literally (the count is
    true); in the default mode (hybrid, once embeddings exist) they are ordered with the help of
    meaning. Paragraphs that share only some words or the meaning follow in a separate, labelled
    list ("related"; `related` in --json), never counted among the hits. Reposts are shown once."""
    _one_blas_thread()
    from corpus.store import reading
    from indexer.api import SearchRequest
    from indexer.search import default_mode, search

    settings = get_settings()
    scope = {"同段": "paragraph", "同句": "sentence"}.get(scope, scope)
    request = SearchRequest(
        query=" ".join(query), mode=mode or default_mode(settings), scope=scope,
        filters=filters,
        page=page, per_page=per_page, fold=not no_fold, sort=sort, related=related,
    )
    with reading(settings) as store:  # the one store of this process
        result = search(settings, request, store=store)
    if as_json:
        echo_json(result.to_json())
        return
    if as_csv:
        from corpus.tabular import neutralise

        w = csv.writer(sys.stdout)
        w.writerow(["rank", "relation", "paragraph_id", "doc_id", "title", "unit", "date", "site", "section", "copies",
                    "text"])
        for h in [*result.hits, *result.related]:  # spreadsheet-safe: the export's formula rule
            w.writerow([neutralise(str(x)) for x in (
                h.rank, h.relation or "", h.paragraph_id, h.doc_id, h.title, h.unit or "", h.date or "",
                h.site or "", " > ".join(h.section), h.copy_count, _mark(h.text, h.spans, False))])
        return
    style = sys.stdout.isatty()
    if result.notice:
        click.echo(click.style(f"note: {result.notice}", fg="yellow") if style else f"note: {result.notice}", err=True)
    what = "by meaning" if result.mode == "semantic" else f"holding {' + '.join(result.terms)}"
    click.echo(f"{result.total} hits {what} ({result.mode}, {result.took_ms:.0f} ms) — page {request.page}/{result.pages}")
    if not result.hits and result.total and request.page > result.pages:
        click.echo(f"page {request.page} is past the last page ({result.pages})")
    if not result.total and result.suggestions:
        click.echo("did you mean: " + " | ".join(result.suggestions))
    _print_hits(result.hits, style)
    if result.related:
        click.echo("")
        label = (f"related — not counted above, {len(result.related)} paragraphs with some of the words "
                 f"({' '.join(result.related_words)}) or the same meaning (意思相近 / 部分匹配):")
        click.echo(click.style(label, fg="cyan") if style else label)
        _print_hits(result.related, style)
    if facets and result.total:
        click.echo("")
        for k, vals in result.facets.items():
            if vals:
                click.echo(f"{k}: " + "  ".join(f"{v} ({n})" for v, n in vals[:8]))


def _print_hits(hits, style: bool) -> None:
    for h in hits:
        head = f"{h.rank:>3}. {h.title}" + (f"  [{h.relation}]" if h.relation else "")
        meta = " · ".join(x for x in (h.unit, h.date, h.site) if x)
        click.echo("")
        click.echo(click.style(head, bold=True) if style else head)
        if meta:
            click.echo(f"     {meta}")
        if h.section:
            click.echo("     § " + " > ".join(h.section))
        click.echo("     " + _mark(h.snippet, h.snippet_spans, style))
        for b in h.body[:1]:  # a heading hit: the start of its section
            click.echo("       ┊ " + (b["text"][:120] + ("…" if len(b["text"]) > 120 else "")))
        if h.best_sentence and not h.spans and not h.relation:
            click.echo(f"     ≈ {h.best_sentence}")
        if h.copies:
            where = "; ".join(sorted({c.site or c.title for c in h.copies}))[:120]
            click.echo(f"     (+{h.copy_count} copies: {where})")


search_cmd.help = (search_cmd.help or "").rstrip() + "\n\n\b\n" + QUERY_HELP


@click.command("kwic")
@click.argument("phrase", nargs=-1, required=True)
@click.option("--width", "-w", default=20, show_default=True, help="Context characters on each side.")
@click.option("--sort", type=click.Choice(["left", "right", "position"]), default="left", show_default=True)
@click.option("--limit", "-n", default=200, show_default=True, help="Lines to show.")
@filter_options()
@click.option("--no-fold", is_flag=True, help="Count every repost separately.")
@click.option("--json", "as_json", is_flag=True, help="Print the concordance as JSON.")
@handle_errors
def kwic_cmd(phrase, width, sort, limit, filters, no_fold, as_json) -> None:
    """Concordance: every occurrence of PHRASE with aligned left and right context, and the words
    most often just before and after it."""
    _one_blas_thread()
    from corpus.store import reading
    from indexer.kwic import fit_left, fit_right, kwic

    settings = get_settings()
    with reading(settings) as store:  # the one store of this process
        result = kwic(settings, " ".join(phrase), width=width, sort=sort, limit=limit, filters=filters,
                      fold_reposts=not no_fold, store=store)
    if as_json:
        echo_json(result.to_json())
        return
    style = sys.stdout.isatty()
    cols = width * 2  # CJK characters take two columns
    click.echo(f"{result.total} occurrences in {result.paragraphs} paragraphs")
    for ln in result.lines:
        match = click.style(ln.match, fg="red", bold=True) if style else ln.match
        src = " · ".join(x for x in (ln.title[:18], ln.unit, ln.date) if x)
        click.echo(f"{fit_left(ln.left, cols)} {match} {fit_right(ln.right, cols)}  [{ln.paragraph_id}] {src}")
    if result.left_collocates or result.right_collocates:
        click.echo("")
        click.echo("before: " + "  ".join(f"{w} ×{n}" for w, n in result.left_collocates))
        click.echo("after:  " + "  ".join(f"{w} ×{n}" for w, n in result.right_collocates))
    from indexer.collocations import MAX_OCCURRENCES, collocations

    if 0 < result.total <= MAX_OCCURRENCES:
        colloc = collocations(settings, " ".join(phrase), filters=filters, fold_reposts=not no_fold,
                              min_count=1 if result.total < 10 else 2, top=12)
        if colloc.collocates:
            click.echo(f"collocations (±{colloc.window} words, by logDice; `corpus collocations` for the table): "
                       + "  ".join(f"{c.word} {c.logdice:.1f}" for c in colloc.collocates))


commands = [index_cmd, search_cmd, kwic_cmd]
