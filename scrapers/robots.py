"""robots.txt, fetched once per host per run, read the way RFC 9309 says.

- 200: parsed (urllib.robotparser); Crawl-delay raises the host's delay (capped by policy).
- 4xx (404, 403, ...): no rules -- everything allowed (RFC 9309 2.3.1.3).
- 5xx, timeouts, network errors: the site is treated as fully disallowed for this run
  (RFC 9309 2.3.1.4: "unreachable" means complete disallow); the URLs are reported, not fetched.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from .fetch import Fetcher

log = logging.getLogger(__name__)

ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse at least 500 KiB; we read no more


def crawl_delay(text: str, user_agent: str) -> float | None:
    """The Crawl-delay (seconds, fractions allowed) of the group that applies to user_agent: the
    first group naming a token of it, else the `*` group."""
    token = user_agent.split("/")[0].lower()
    agents: list[str] = []
    in_rules = False
    found: dict[str, float] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (x.strip() for x in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
        elif key == "crawl-delay":
            in_rules = True
            try:
                d = float(value)
            except ValueError:
                continue
            if d >= 0:
                for a in agents:
                    found.setdefault(a, d)
        elif key in ("allow", "disallow"):
            in_rules = True
    for a, d in found.items():
        if a != "*" and a in token:
            return d
    return found.get("*")


class RobotsCache:
    """Answers `allowed(url)` for the fetcher's User-Agent, one robots.txt per scheme://host."""

    def __init__(self, fetcher: Fetcher):
        self.fetcher = fetcher
        self._rules: dict[str, RobotFileParser | bool] = {}  # True = allow all, False = disallow all
        self.notes: dict[str, str] = {}  # origin -> why everything is allowed/disallowed

    def _origin(self, url: str) -> str:
        p = urlsplit(url)
        return urlunsplit((p.scheme, p.netloc, "", "", "")).lower()

    def _load(self, origin: str) -> RobotFileParser | bool:
        if origin in self._rules:
            return self._rules[origin]
        res = self.fetcher.fetch(origin + "/robots.txt", max_bytes=ROBOTS_MAX_BYTES)
        rules: RobotFileParser | bool
        if res.ok:
            rp = RobotFileParser()
            rp.parse(res.body.decode("utf-8", errors="replace").splitlines())
            rules = rp
            delay = rp.crawl_delay(self.fetcher.policy.user_agent)
            if delay is None:  # urllib.robotparser reads only whole seconds: "Crawl-delay: 2.5" too
                delay = crawl_delay(res.body.decode("utf-8", errors="replace"), self.fetcher.policy.user_agent)
            if delay:
                capped = min(float(delay), self.fetcher.policy.max_crawl_delay)
                if capped < float(delay):
                    log.warning("%s asks for Crawl-delay %s; capped at %s", origin, delay, capped)
                self.fetcher.throttle.set_host_delay(urlsplit(origin).netloc, capped)
        elif res.status is not None and 400 <= res.status < 500:
            rules = True
            self.notes[origin] = f"robots.txt: HTTP {res.status}, no rules"
        elif res.kind == "too_large":
            rules = True
            self.notes[origin] = "robots.txt too large; ignored"
        else:
            rules = False
            self.notes[origin] = f"robots.txt unreachable ({res.error or res.kind}): site treated as disallowed"
            log.warning("%s: %s", origin, self.notes[origin])
        self._rules[origin] = rules
        return rules

    def allowed(self, url: str) -> bool:
        rules = self._load(self._origin(url))
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(self.fetcher.policy.user_agent, url)

    def why_not(self, url: str) -> str:
        origin = self._origin(url)
        return self.notes.get(origin) or f"robots.txt of {origin} disallows {urlsplit(url).path or '/'}"
