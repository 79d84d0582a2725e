"""Facet values derived from document fields: the unit level (省/市/县/区/乡镇) of a speaker unit.

The rules live in corpus/levels.py (used by the cleaner, which stores each document's
level: from its unit, else from its meeting's scope, 在全县…会上 -> 县); `unit_level` is the same
function, for documents stored before the cleaner kept a level."""

from __future__ import annotations

from corpus.levels import unit_level

__all__ = ["unit_level"]
