"""Site profiles ("adapters"): one module per site, selectors as data (see base.py); `generic` for any other site.

They live in the ground floor because ingest needs them for every saved page; the crawler
(`scrapers/`) uses the same profiles for its crawl rules.

`extract_for(record)` is the hook the ingest pipeline calls on an HTML record: it picks the adapter
named in ``record.meta["adapter"]`` (set by the crawler), else the one whose hosts match the record's
URL, else one whose fingerprint is on the page, and returns its extraction -- or None, meaning "use
the generic extractor" (no adapter, the generic adapter, or the adapter's body selector found
nothing). Because the raw HTML is stored, `corpus reclean` re-runs this with improved selectors.
"""

from __future__ import annotations

import logging

from ..errors import CorpusError, InputError
from ..html import ExtractedPage
from ..models import RawRecord
from ..rulecheck import RuleError
from . import cn12371, fanwy, generic, rulaiwenku, wm114
from .base import SiteAdapter

log = logging.getLogger(__name__)

SITE_ADAPTERS: tuple[SiteAdapter, ...] = (wm114.ADAPTER, fanwy.ADAPTER, rulaiwenku.ADAPTER, cn12371.ADAPTER)
GENERIC: SiteAdapter = generic.ADAPTER
ADAPTERS: dict[str, SiteAdapter] = {a.name: a for a in (*SITE_ADAPTERS, GENERIC)}
if len(ADAPTERS) != len(SITE_ADAPTERS) + 1:
    raise RuleError("site profiles: two profiles share a name: " + ", ".join(a.name for a in (*SITE_ADAPTERS, GENERIC)))
if GENERIC.hosts or GENERIC.fingerprints:
    raise RuleError("site profile 'generic': serves every other site, so it has no hosts or fingerprints")


def adapter_by_name(name: str) -> SiteAdapter:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise InputError(f"unknown site {name!r}: choose one of {', '.join(sorted(ADAPTERS))}") from None


def adapter_for_url(url: str | None) -> SiteAdapter:
    """The adapter whose hosts match the URL, else the generic one."""
    for a in SITE_ADAPTERS:
        if a.matches_url(url):
            return a
    return GENERIC


def adapter_for_record(record: RawRecord) -> SiteAdapter:
    meta = record.meta or {}
    name = meta.get("adapter")
    if name in ADAPTERS:
        return ADAPTERS[name]
    url = meta.get("url") or (record.path if record.path.startswith(("http://", "https://")) else None)
    found = adapter_for_url(url)
    if found is not GENERIC:
        return found
    head = record.raw[:200000]
    for a in SITE_ADAPTERS:
        if a.matches_page(head):
            return a
    return GENERIC


def extract_for(record: RawRecord) -> ExtractedPage | None:
    """The site adapter's extraction of an HTML record, or None to use the generic extractor."""
    if record.format != "html":
        return None
    adapter = adapter_for_record(record)
    if adapter is GENERIC:
        return None
    url = (record.meta or {}).get("url")
    try:
        page = adapter.extract(record.raw, url=url)
    except CorpusError as e:
        log.info("%s: adapter %s failed (%s); generic extraction", record.path, adapter.name, e)
        return None
    if page is None:
        log.info("%s: adapter %s found no body; generic extraction", record.path, adapter.name)
    return page
