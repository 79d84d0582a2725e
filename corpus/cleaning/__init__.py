"""Cleaning: from collected text to documents and paragraphs. See `clean.py`."""

from .clean import clean_text  # noqa: F401
