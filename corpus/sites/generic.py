"""Any other site: main-content extraction by corpus.html (density + best sibling run).

Links on a listing page are guessed: same host, a path that looks like an article (ends in a number
or a date-stamped .html), next page by the link text 下一页.
"""

from __future__ import annotations

from .base import SiteAdapter

ADAPTER = SiteAdapter(
    name="generic",
    label="",
    hosts=(),
    structure="any",
    article_url=(r"/[^/]*\d{3,}[^/]*\.s?html?$", r"/t\d{8}_\d+\.html?$", r"/content_\d+\.html?$", r"/\d+/?$"),
    listing_url=(r"/$", r"/(?:index|list)[_\d]*\.s?html?$"),
)
