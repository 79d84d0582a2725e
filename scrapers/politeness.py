"""Per-host delay: the one rule that keeps a crawler from hammering a site.

Every request (retries, redirects and robots.txt included) waits until `delay` seconds have passed
since the previous request to the same host. A host's robots.txt Crawl-delay raises its delay.
The clock and sleep are parameters so the rule itself can be tested without waiting.

Across runs: `restore()` takes what an earlier run recorded (the wall-clock time of the last
request to a host, its Crawl-delay) and `on_request` / `on_delay` are told of every new one, so
the crawler can keep them in the store and two runs back to back stay as polite as one.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class HostThrottle:
    """Spaces requests to each host at least `delay` seconds apart."""

    def __init__(self, delay: float = 1.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if delay < 0:
            raise ValueError("delay must be >= 0")
        self.delay = delay
        self._clock = clock
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._host_delay: dict[str, float] = {}
        self.on_request: Callable[[str, float], None] | None = None  # (host, wall-clock time of the request)
        self.on_delay: Callable[[str, float], None] | None = None  # (host, robots.txt Crawl-delay)

    def restore(self, host: str, *, last_request: float | None = None, crawl_delay: float | None = None,
                wall: Callable[[], float] = time.time) -> None:
        """What an earlier run recorded for `host`: its last request (wall-clock seconds) and Crawl-delay."""
        host = host.lower()
        if crawl_delay:
            self._host_delay[host] = max(self.delay, crawl_delay)
        if last_request is not None:
            ago = max(0.0, wall() - last_request)
            self._last[host] = self._clock() - ago

    def set_host_delay(self, host: str, delay: float) -> None:
        """A longer delay for one host (robots.txt Crawl-delay). Never shorter than the default."""
        self._host_delay[host.lower()] = max(self.delay, delay)
        if self.on_delay is not None:
            self.on_delay(host.lower(), delay)

    def delay_for(self, host: str) -> float:
        return self._host_delay.get(host.lower(), self.delay)

    def wait(self, host: str) -> float:
        """Sleep as needed before a request to `host`; returns the seconds slept."""
        host = host.lower()
        now = self._clock()
        last = self._last.get(host)
        slept = 0.0
        if last is not None:
            due = last + self.delay_for(host)
            if due > now:
                slept = due - now
                self._sleep(slept)
                now = self._clock()
        self._last[host] = now
        if self.on_request is not None:
            self.on_request(host, time.time())
        return slept
