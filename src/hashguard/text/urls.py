"""URLs in messages: find them, canonicalize them, and turn them into list lookups.

The public face of :mod:`hashguard.text.url_extract` (finding URLs in chat text, plain or
obfuscated; its docstring has the table of obfuscations) and
:mod:`hashguard.text.url_canon` (Safe Browsing canonicalization, host-suffix/path-prefix
expressions, list-entry expressions and their SHA-256 hashes).

A message is checked by ``extract_urls`` → ``expressions(found.canonical)`` → look each
expression (or its ``url_sha256``) up in the set built from ``rule_expression(entry)``.
"""

from hashguard.text.url_canon import (
    MAX_URL_LENGTH,
    canonicalize,
    expressions,
    rule_expression,
    url_sha256,
)
from hashguard.text.url_extract import FoundUrl, extract_urls, top_level_domains

__all__ = [
    "MAX_URL_LENGTH",
    "FoundUrl",
    "canonicalize",
    "expressions",
    "extract_urls",
    "rule_expression",
    "top_level_domains",
    "url_sha256",
]
