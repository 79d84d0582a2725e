"""Stage 6: news text: photo captions, datelines, speech headers glued before the body, wire tails.
"""

from __future__ import annotations

from . import metadata as M
from . import rules as R
from .header import looks_like_title
from .lines import Ctx, Line


def _speech_header(t: str, ctx: Ctx, no: int | None, title: str | None) -> str:
    """Drop a speech's own header glued before its body: title, (date), role, speaker."""
    m = R.SPEECH_HEADER.match(t)
    end = None
    if m:
        ctx.date("header", M.iso_date(m.group("y"), m.group("m"), m.group("d")))
        end = m.end()
    elif (mr := R.ROLE_SPEAKER.match(t)) and any(t[mr.end():].startswith(k) for k in R.KNOWN_SPEAKERS):
        m = mr
        end = mr.end()
    else:
        if "※" not in t[:130]:
            return t
        head, _, _ = t.partition("※")
        if len(head) > 120 or R.SENTENCE_END.search(head):
            return t
        end = len(head) + 1
    rest = t[end:]
    speaker = None
    for name in R.KNOWN_SPEAKERS:
        if rest.startswith(name):
            speaker = name
            break
    if speaker is None:
        for k in (2, 3, 4):
            if len(rest) == k or (len(rest) > k and R.SALUTATION_START.match(rest[k:])):
                speaker = rest[:k]
                break
    if speaker is None and m is None:
        return t
    if speaker:
        ctx.speaker = ctx.speaker or speaker
        end += len(speaker)
    if m is not None and m.re is R.SPEECH_HEADER and m.group("title"):
        ctx.header_title = ctx.header_title or m.group("title").strip()
    elif m is None:
        ctx.header_title = ctx.header_title or t[: end - len(speaker or "") - 1].strip()
    ctx.drop(t[:end], "news.speech_header", no)
    return t[end:].strip()



def _news_head(t: str, ln: Line, ctx: Ctx, out: list[Line], title: str | None, seen: int) -> str:
    """Peel dateline, 央视网 lead, speech header and photo caption off the start, in whatever order they come."""
    for _ in range(5):
        before = t
        if seen <= 4 and t:
            t = _speech_header(t, ctx, ln.no, title)
            # header split over two lines: the speech title line just before '（2023年11月21日，北京）…'
            if t != before and before[:1] in "(（" and out and out[-1].kind == "text" \
                    and looks_like_title(out[-1].text):
                prev = out.pop()
                person = M.byline(prev.text)
                if person:  # "市委书记 张三" above "（2023年3月1日）": the speaker, not a title
                    ctx.speaker = ctx.speaker or person[0]
                    ctx.unit = ctx.unit or person[1]
                    ctx.drop(prev.text, "meta.speaker", prev.no)
                else:
                    ctx.drop(prev.text, "news.speech_header", prev.no)
        if t.startswith(("新华社", "人民日报", "中新社", "央视网")):
            m = R.DATELINE.match(t)
            if m:
                ctx.drop(m.group(0), "news.dateline", ln.no)
                t = t[m.end():].strip()
            m = R.CCTV_LEAD.match(t)
            if m:
                ctx.drop(m.group(0), "news.cctv_lead", ln.no)
                t = t[m.end():].strip()
        if t == before and "摄" in t[:330]:
            m = R.PHOTO_CAPTION.match(t) or R.PHOTO_CAPTION_ALT.match(t)
            if m:
                ctx.drop(m.group("cap"), "news.caption", ln.no)
                t = t[m.end():].strip()
        if t == before:
            break
    return t


def news(lines: list[Line], ctx: Ctx, title: str | None) -> list[Line]:
    out: list[Line] = []
    seen = 0
    text_total = sum(len(ln.text) for ln in lines if ln.kind == "text")
    consumed = 0
    wire_cut = False
    for ln in lines:
        if ln.kind != "text":
            out.append(ln)
            continue
        if wire_cut:
            ctx.drop(ln.text, "news.source_tail" if R.PEOPLES_DAILY_TAIL.search(ln.text) else "news.wire_tail", ln.no)
            continue
        seen += 1
        t = ln.text
        consumed += len(t)
        t = _news_head(t, ln, ctx, out, title, seen)
        if "人民日报" in t[-40:]:
            m = R.PEOPLES_DAILY_TAIL.search(t)
            if m:
                ctx.date("edition", M.iso_date(m.group("y"), m.group("m"), m.group("d")))
                ctx.drop(m.group(0), "news.source_tail", ln.no)
                t = t[: m.start()].strip()
        if "新华社" in t:
            tails = list(R.WIRE_TAIL.finditer(t))
            m = tails[-1] if tails else None
            if m is not None:
                after = len(t) - m.end() + (text_total - consumed)
                if after <= 600:
                    ctx.drop(t[m.start():], "news.wire_tail", ln.no)
                    t = t[: m.start()].strip()
                    wire_cut = True
        if not t:
            continue
        ln.text = t
        out.append(ln)
    return out
