"""The timeline chart as SVG, drawn on the server with matplotlib (Agg, no display, no network).

Text is written into the SVG as glyph outlines (`svg.fonttype = "path"`), so the chart shows
Chinese in any browser and offline, with or without fonts on the reader's machine. The glyphs
come from a CJK font on the server: the first of `CJK_FONTS` that matplotlib's font manager
finds (Debian: fonts-wqy-zenhei, which scripts/test.sh installs), or a font file named by
$CORPUS_CHART_FONT. Without one the chart still draws, with the phrases numbered in the legend
((1), (2)… in the order of the table) and English axis labels; the table beside it carries the
names.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from functools import lru_cache

log = logging.getLogger(__name__)
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # "weight normal not found" for every CJK family

CJK_FONTS = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "SimHei",
             "Microsoft YaHei", "PingFang SC", "Droid Sans Fallback", "AR PL UMing CN")
FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
COLORS = ("#b22222", "#1f5fa8", "#2e8b57", "#d2691e", "#6a3d9a", "#8b6508", "#c71585", "#2f4f4f")
_lock = threading.Lock()  # pyplot state is global: one chart at a time


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of a CJK font matplotlib can use, or None."""
    from matplotlib import font_manager

    extra = [os.environ.get("CORPUS_CHART_FONT", "")] + list(FONT_FILES)
    for path in extra:
        if path and os.path.exists(path):
            try:
                font_manager.fontManager.addfont(path)
            except Exception as e:  # a broken font file must not break the page
                log.debug("font %s: %s", path, e)
    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            return name
    log.warning("no CJK font found for charts (install fonts-wqy-zenhei): legend shows numbers")
    return None


def _label(i: int, phrase: str, font: str | None) -> str:
    return phrase if font else f"({i + 1})"


def trend_svg(result, measure: str = "per_million", width: float = 8.0, height: float = 3.6) -> str:
    """The SVG of a TrendResult: one line per phrase over the years (per million characters, or
    hits with measure="hits"); undated hits are left out and counted in the caption."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    font = cjk_font()
    with _lock:
        matplotlib.rcParams["svg.fonttype"] = "path"
        matplotlib.rcParams["svg.hashsalt"] = "corpus-trend"  # the same chart gives the same SVG
        family = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
        fig = Figure(figsize=(width, height), dpi=100)
        ax = fig.add_subplot(1, 1, 1)
        years = result.years
        for i, s in enumerate(result.series):
            ys = [y.per_million if measure == "per_million" else y.hits for y in s.years]
            used = [k for k, y in enumerate(s.years) if y.hits]  # markers only where the phrase is used
            ax.plot(years, ys, marker="o", markersize=3, markevery=used or None, linewidth=1.8,
                    color=COLORS[i % len(COLORS)], label=_label(i, s.phrase, font))
            if s.first_year is not None:
                k = years.index(s.first_year)
                ax.annotate(f"{s.first_year}", (years[k], ys[k]), textcoords="offset points", xytext=(0, 7),
                            ha="center", fontsize=8, color=COLORS[i % len(COLORS)], family=family)
        ax.set_ylabel("每百万字" if font and measure == "per_million" else
                      ("次数" if font else ("per million chars" if measure == "per_million" else "hits")),
                      family=family)
        ax.grid(True, alpha=0.3, linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        if years:
            ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
        ax.set_ylim(bottom=0)
        if result.series:
            ax.legend(loc="upper left", frameon=False, prop={"family": family, "size": 9})
        undated = sum(s.undated_hits for s in result.series)
        if undated:
            note = f"另有 {undated} 次出现于无日期文稿，未计入图中" if font else f"{undated} undated hits not shown"
            fig.text(0.99, 0.01, note, ha="right", va="bottom", fontsize=7, color="#666", family=family)
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()
