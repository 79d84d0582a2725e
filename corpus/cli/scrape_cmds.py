"""`corpus scrape`: fetch pages or follow a site's listings into the store (library: scrapers/)."""

from __future__ import annotations

import sys

import click

from .common import echo_json, get_settings, handle_errors

commands: list = []


@click.command("scrape")
@click.argument("urls", nargs=-1)
@click.option("--site", default=None, help="Site adapter: wm114, fanwy, rulaiwenku, 12371, generic (default: by URL).")
@click.option("--start", default=None, help="Listing (or article) URL to start a site crawl from.")
@click.option("--max-pages", type=int, default=None, help="Fetch at most this many pages for this crawl (in total, across resumed runs).")
@click.option("--delay", type=float, default=1.0, show_default=True, help="Seconds between requests to the same host (robots.txt Crawl-delay may raise it).")
@click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds to wait for a server (connect, each read).")
@click.option("--deadline", type=float, default=None,
              help="Seconds one whole response may take (connect + headers + body; default 4 x --timeout).")
@click.option("--follow-hosts", default="", metavar="HOST,...",
              help="Other hosts a redirect may lead to (by default only the start URLs' hosts).")
@click.option("--retries", type=int, default=2, show_default=True, help="Retries after a timeout or 5xx (with backoff).")
@click.option("--max-bytes", type=int, default=5 * 1024 * 1024, show_default=True, help="Largest response accepted.")
@click.option("--user-agent", default=None, help="User-Agent header (default names this crawler).")
@click.option("--refresh", is_flag=True, help="Re-check pages already held (conditional requests: If-None-Match / If-Modified-Since).")
@click.option("--retry-failed", is_flag=True, help="Queue this crawl's failed pages again.")
@click.option("--status", "status", is_flag=True, help="Show what is queued, done and failed, and exit.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def scrape(urls, site, start, max_pages, delay, timeout, deadline, follow_hosts, retries, max_bytes, user_agent, refresh,
           retry_failed, status, as_json):
    """Fetch URLS, or crawl a site: `corpus scrape --site wm114 --start URL --max-pages 50`.

    Pages are cleaned and stored like `corpus ingest` (the raw HTML is kept for `corpus reclean`).
    Interrupted crawls resume: run the same command again. Exit status 1 if any URL failed.
    """
    from corpus.errors import InputError
    from scrapers.crawl import Crawler
    from scrapers.fetch import DEFAULT_USER_AGENT, FetchPolicy
    from scrapers.frontier import Frontier

    settings = get_settings()
    if status:
        from corpus.store import Store

        report = Frontier(Store(settings.db_path)).status_report()
        if as_json:
            echo_json(report)
            return
        if not report["jobs"]:
            click.echo("no crawls yet")
        for j in report["jobs"]:
            click.echo(f"{j['job']}: queued {j['queued']}, done {j['done']}, failed {j['failed']}, skipped {j['skipped']}")
        click.echo(f"pages held: {report['pages_held']}; fetch log: "
                   + ", ".join(f"{k} {v}" for k, v in sorted(report["fetch_log"].items())))
        for q in report["queued_sample"]:
            click.echo(f"queued: {q['url']} ({q['kind']})")
        for f in report["recent_failures"]:
            click.echo(f"{f['status']}: {f['url']}: {f['error']}")
        return
    if not urls and not start:
        raise InputError("give URLs to fetch, or --start URL (with --site NAME) to crawl a site; --status to see crawls")
    if urls and start:
        raise InputError("give either URLs or --start, not both")
    if delay < 0 or timeout <= 0 or retries < 0 or max_bytes <= 0 or (deadline is not None and deadline <= 0):
        raise InputError("--delay must be >= 0, --timeout, --deadline and --max-bytes > 0, --retries >= 0")
    policy = FetchPolicy(user_agent=user_agent or DEFAULT_USER_AGENT, delay=delay, timeout=timeout, deadline=deadline,
                         retries=retries, max_bytes=max_bytes)

    def progress(url: str, outcome: str) -> None:
        if not as_json:
            click.echo(f"{outcome}: {url}", err=True)

    crawler = Crawler(settings, policy, on_page=progress, follow_hosts=follow_hosts.split(","))
    if start:
        summary = crawler.crawl_site(site, start, max_pages=max_pages, refresh=refresh, retry_failed=retry_failed)
    else:
        summary = crawler.crawl_urls(urls, refresh=refresh, retry_failed=retry_failed)
    if as_json:
        echo_json(summary.__dict__)
    else:
        for line in summary.lines():
            click.echo(line)
    if summary.failed:
        sys.exit(1)


commands = [scrape]
