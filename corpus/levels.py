"""Administrative level (中央 省 市 区 县 乡镇) of a speaker unit, kept light: the cleaner stores each
document's level with it, and search derives it for documents stored before that without loading the
cleaner's rules.

Units are written as "xx区", "市发改委", "山东省商务厅", "xx县xx镇": the lowest administrative level
named decides, and a department inherits the level of its government (市发改委 -> 市).
"""

from __future__ import annotations

import re

# the level of a unit: the lowest administrative level it names decides, a department inherits its
# government's level (市发改委 -> 市). First match wins.
LEVEL_RULES: list[tuple[str, re.Pattern]] = [
    ("乡镇", re.compile(r"(?:[镇乡]|街道)(?:党委|政府|人大|办事处|$|[^村])")),
    ("县", re.compile(r"县(?!城|域)|县级市|旗(?!帜|舰)")),
    ("区", re.compile(r"(?<![社园景校片辖治])区(?!域|块|别)|开发区|高新区|新区")),
    ("市", re.compile(r"市(?!场)|自治州|州(?:委|政府)|盟")),
    ("省", re.compile(r"省|自治区|直辖市")),
    ("中央", re.compile(r"^(?:中央|国务院|全国|中共中央|国家)")),
]


def unit_level(unit: str | None) -> str | None:
    """'xx区' -> '区', '市发改委' -> '市', '山东省' -> '省'; None when no level is named."""
    if not unit:
        return None
    for level, pattern in LEVEL_RULES:
        if pattern.search(unit):
            return level
    return None
