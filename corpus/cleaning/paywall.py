"""Stage 2: paywall markers, inline omissions (the paragraph is split there), truncation tails.
"""

from __future__ import annotations

from . import rules as R
from .lines import Ctx, Line


def _after_tail(lines: list[Line], ctx: Ctx) -> None:
    """Everything after a paywall tail is page chrome; record each line under its most specific rule."""
    for ln in lines:
        if ln.kind != "text":
            continue
        t = ln.text
        m = R.SOURCE_URL.search(t)
        if m:
            ctx.urls.insert(0, m.group("url"))
        rule = "paywall.after_tail"
        if len(t) <= R.LINE_RULE_MAX_LEN:
            mm = R.LINE_RULE_RE.search(t)
            if mm:
                rule = R.LINE_RULE_NAMES[mm.lastgroup]
            elif R.PAYWALL_END_LINE.match(t):
                rule = "paywall.tail"
        ctx.drop(t, rule, ln.no)


def paywall(lines: list[Line], ctx: Ctx) -> list[Line]:
    out: list[Line] = []
    for i, ln in enumerate(lines):
        t = ln.text
        if "paid" in t or "pagebreak" in t:
            for m in R.PAYWALL_MARKER.finditer(t):
                ctx.drop(m.group(0), "paywall.marker", ln.no)
            t = R.PAYWALL_MARKER.sub("", t).strip()
            if not t:
                continue
            ln.text = t
        if "未完" in t:
            m = R.PAYWALL_TAIL.search(t)
            if m:
                before = t[: m.start()].strip()
                ctx.drop(m.group(0), "paywall.tail", ln.no)
                if m.group("total"):
                    ctx.claimed_length = int(m.group("total"))
                ctx.truncated = True
                if before:
                    ln.text = before
                    out.append(ln)
                out.append(Line("", ln.no, kind="tail", n=ctx.claimed_length))
                _after_tail(lines[i + 1:], ctx)
                return out
        if "结束" in t and len(t) <= 80 and R.PAYWALL_END_LINE.match(t):
            ctx.drop(t, "paywall.tail", ln.no)
            ctx.truncated = True
            m = R.CLAIMED_LENGTH.search(t)
            if m:
                ctx.claimed_length = int(m.group(1))
            out.append(Line("", ln.no, kind="tail", n=ctx.claimed_length))
            _after_tail(lines[i + 1:], ctx)
            return out
        if "省略" in t:
            pos = 0
            pieces: list[Line] = []
            for m in R.PAYWALL_OMISSION.finditer(t):
                ctx.drop(m.group(0), "paywall.omission", ln.no)
                before = t[pos: m.start()].strip()
                if before:
                    pieces.append(Line(before, ln.no, after_blank=ln.after_blank if not pieces else False))
                pieces.append(Line("", ln.no, kind="omission", n=int(m.group("n"))))
                pos = m.end()
            if pieces:
                rest = t[pos:].strip()
                if rest:
                    pieces.append(Line(rest, ln.no))
                out.extend(pieces)
                continue
        out.append(ln)
    return out
