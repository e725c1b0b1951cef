"""Find the URLs in a chat message, written plainly or obfuscated, with their spans.

``extract_urls(text)`` returns one :class:`FoundUrl` per link: its span in the original
text, the substring, and its Safe Browsing canonical form (``url_canon.canonicalize``).
URLs with a scheme are taken as written; scheme-less ones (``www.example.com/x``,
``example.com/path``, ``sub.example.org``) need a last label that is a top-level domain
of the IANA root zone (from the Public Suffix List bundled in ``publicsuffixlist``) or a
special-use one (``example``, ``invalid``, ``test``, ``onion``).

Obfuscations undone (each has a test):

==================================================  ======================================
written in the message                              read as
==================================================  ======================================
``hxxp://``, ``hXXps://``, ``h**p://``, ``fxp://``  ``http://``, ``https://``, ``ftp://``
``[:]//``, ``(:)//``, ``{:}//``, ``[://]``,         ``://`` (after a scheme above)
``(://)``, ``{://}``
``example[.]com``, ``(.)``, ``{.}``, ``[dot]``,     ``example.com``; one space is allowed
``(dot)``, ``{dot}`` (any case)                     inside and around: ``example [ . ] com``
``example dot com`` (dot, DOT or Dot)               ``example.com``, only when clearly a host:
                                                    two or more joins (``www dot example dot
                                                    com``), a ``/`` after it, ``www``,
                                                    ``://`` or a real dot before it, or one
                                                    join before ``com``/``net``/``org``; the
                                                    last label must be a top-level domain
                                                    ("the dot com bubble" gives the.com:
                                                    harmless, it is on no list)
zero-width and invisible characters: U+00AD,        removed
U+200B-U+200F, U+202A-U+202E, U+2060-U+2064,
U+2066-U+2069, U+FEFF
full-width and compatibility forms (NFKC): the      ASCII: ``example.com/``
full-width alphabet, dot, colon and slash (U+FF01-
U+FF5E), U+2024, U+FE52, U+FE55, math letters...
ideographic full stop ``。`` (U+3002, U+FF61)       a dot inside a host; it ends a path
percent-encoding, ``user@`` info, ports,            undone by canonicalization
decimal/octal/hex IPv4 (``http://3279880203/``)
IDN hosts (``bücher.example``)                      punycode (``xn--bcher-kva.example``)
backslashes in a URL with a web scheme, up to its   ``/``, as browsers read them (the
query (also ``http:`` then two backslashes)         WHATWG URL standard)
``example.org./gallery/`` (a trailing-dot host)     the path is kept; the dot is dropped
==================================================  ======================================

A URL ends at whitespace, ``< > " ` { } |``, emoji and other symbols, and non-ASCII
punctuation (« » “ ” 、, full-width comma); trailing ``. , : ; ! ? ' " *`` are dropped,
and ``) ] }`` unless balanced inside the URL, so ``(see example.com/a)`` and
``[x](http://example.com/a)`` work.

Deliberately *not* extracted: scheme-less names whose last label is no top-level domain
(``report.pdf``, ``photo.jpg``, versions ``1.2.3``, ``wait...what``, ``e.g.``); e-mail
addresses (``user@example.com`` is not a link; ``user@example.com/path`` is); a bare IPv4
address without path or port (``10.0.0.1``, too often a version or a log line); a name
right after ``/`` or ``\\`` (a file path such as ``src/app.py``); ``example . com`` and
``example,com``; emoji domains. File names whose extension *is* a top-level domain
(``main.py``, ``notes.md``, ``archive.zip``, ``clip.mov``) are extracted: those TLDs are
real, and a lookup of a name that is on no list costs nothing. A Unicode host glued to
text of the same script (Chinese has no spaces) cannot be told apart and is taken whole;
ASCII hosts glued to CJK, Thai or Hangul text are cut at the script change. URLs over
4096 characters are reported, canonicalized from their first 4096 characters.

Every step is linear in the text: regexes have no nested quantifiers, repeated classes
are possessive or anchored by a look-behind, and the scanner never revisits a character
more than a constant number of times. Messages without a dot, bracket, ``dot`` or ``:/``
return at once.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib.resources import files

from hashguard.errors import InvalidSignal
from hashguard.text.url_canon import MAX_URL_LENGTH, canonicalize

__all__ = ["FoundUrl", "extract_urls"]


@dataclass(frozen=True, slots=True)
class FoundUrl:
    """One URL found in a text: ``text[start:end] == raw``; ``canonical`` is for lookups."""

    start: int
    end: int
    raw: str
    canonical: str


_SPECIAL_USE_TLDS = ("example", "invalid", "test", "onion")  # RFC 2606, 6761, 7686


@functools.cache
def top_level_domains() -> frozenset[str]:
    """Lower-case top-level domains, Unicode and punycode forms, read once from the PSL."""
    data = files("publicsuffixlist").joinpath("public_suffix_list.dat").read_text("utf-8")
    names = set(_SPECIAL_USE_TLDS)
    for line in data.splitlines():
        rule = line.strip()
        if rule and not rule.startswith("//"):
            tld = rule.split()[0].rsplit(".", 1)[-1].lstrip("!").lower()
            names.add(tld)
            if not tld.isascii():
                names.add(tld.encode("idna").decode("ascii"))
    return frozenset(names)


_INVISIBLE = (
    "\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\U000e0001\U000e0020-\U000e007f"  # language tags
)
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
# Any text that can hold a URL matches one of these (tests check the dot-like set against
# unicodedata): a dot-like character before a top-level domain's first letter, or before
# an IPv4 address's last part and a "/" or ":", a bracket before a dot, "dot" or ":", a
# spelled-out " dot ", a ":" (or look-alike) before "/", "\\", ")" or "]", an invisible
# character, or an enclosed "1." / "a.m." style character.
_DOTS = ".\u2024\u3002\ufe52\uff0e\uff61"
_COLONS = ":\ufe13\ufe55\uff1a\u2a74"
_ENCLOSED = "\u2488-\u249b\u33c2\u33c7\u33d8\U0001f100"
_PRECHECK = re.compile(
    f"[^\\s.][{_DOTS}][^\\s.0-9]"
    f"|\\d[{_DOTS}]\\d{{1,3}}[/:\uff0f\uff1a]"
    "|[\\[({]\\s?(?:\\.|[dD][oO][tT]|:)"
    "|\\s(?:dot|DOT|Dot)\\s"  # the spellings _SPELLED_DOT undoes
    f"|[{_COLONS}][/\uff0f\\]\\\\)\u2100\u2101\u2105\u2106]"
    f"|[{_INVISIBLE}{_ENCLOSED}]"
)
# _PRECHECK but the spelled-out " dot ", written to start with one character class (a dot,
# bracket, colon or invisible character; the rest is checked around it by look-behinds), so
# that the regex engine skips to the next such character in C, where _PRECHECK's alternatives
# are tried at every position (searching from the first such character on, 1.8x slower on
# bench_text's chat messages).
_AT_TRIGGER = re.compile(
    f"[{_DOTS}\\[({{{_COLONS}{_INVISIBLE}{_ENCLOSED}]"
    f"(?:(?<=[^\\s.][{_DOTS}])[^\\s.0-9]"
    f"|(?<=\\d[{_DOTS}])\\d{{1,3}}[/:\uff0f\uff1a]"
    "|(?<=[\\[({])\\s?(?:\\.|[dD][oO][tT]|:)"
    f"|(?<=[{_COLONS}])[/\uff0f\\]\\\\)\u2100\u2101\u2105\u2106]"
    f"|(?<=[{_INVISIBLE}{_ENCLOSED}]))"
)
_SPACED_DOT = re.compile(r"\s(?:dot|DOT|Dot)\s")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_SCHEME_OBFUSCATED = re.compile(
    r"(?i)(?<![a-z0-9])(h(?:tt|xx|\*\*)p|f[tx]p)(s?)"
    r"(?:://|[\[({]:[\])}]//|[\[({]://[\])}])"
)
_BRACKET_DOT = re.compile(r"\s?[\[({]\s?(?:\.|[dD][oO][tT])\s?[\])}]\s?")
_SPELLED_DOT = re.compile(r"(?<=[A-Za-z0-9]) (?:dot|DOT|Dot) (?=[A-Za-z0-9])")
_LDH_RUN = re.compile(r"[A-Za-z0-9\-]*+")
# What ends a token (and so a URL): whitespace, a few ASCII characters, and non-ASCII
# punctuation and symbols (emoji included). U+3002 is handled by the scanner.
_DELIMITERS = (
    '\\s<>"`{}|\\\\'
    "\u00a0-\u00bf\u00d7\u00f7\u060c\u061b\u061f\u06d4\u0964\u0965"
    "\u2000-\u206f\u2190-\u2bff\u2e00-\u2e7f\u3000\u3001\u3003-\u303f"
    "\ufe00-\ufe6f\uff00-\uffef\U0001f000-\U0001faff\U000e0000-\U000e007f"
)
# A web URL (its scheme already made plain) up to its query, when it holds a backslash: the
# WHATWG URL standard reads "\\" as "/" in special schemes' URLs, as browsers do.
_NOT_BACKSLASH_DELIMITERS = _DELIMITERS.replace("\\\\", "")
_BACKSLASH_URL = re.compile(
    f"(?<![A-Za-z0-9])(?:https?|ftps?):[/\\\\]{{2}}[^{_NOT_BACKSLASH_DELIMITERS}?#]*+"
)
_TOKEN = re.compile(f"(?<![^{_DELIMITERS}])[^{_DELIMITERS}.:\u3002]*+[.:\u3002][^{_DELIMITERS}]*+")
_LABEL = re.compile("[0-9A-Za-z_\\-\u0080-\u3001\u3003-\U0010ffff]++")
_HOST = re.compile("\\[[0-9A-Fa-f:.]*+\\]|[0-9A-Za-z_\\-%.\u0080-\U0010ffff]++")
_PORT = re.compile(r":\d{0,5}")
_AUTHORITY_END = re.compile(r"[/?#]")
_NO_SPACE_SCRIPT = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f]"
)
_SCHEMES = ("https", "http", "ftps", "ftp")
_SPELLED_DOT_TLDS = frozenset({"com", "net", "org"})
_TRAILING = frozenset(".,:;!?'\"*")
_OPENERS = {")": "(", "]": "[", "}": "{"}

_Edits = list[tuple[int, int, str]]


class _Mapped:
    """A rewritten text that maps its character spans back to the original text.

    Each rewrite pass keeps its edits as (new start, new end, old start, old end): a
    character inside a replacement comes from the whole replaced span, one outside from
    the character at the same distance past the previous edit. Mapping a span walks the
    passes backwards with a binary search each, so rewriting costs no per-character list.
    """

    __slots__ = ("passes", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.passes: list[tuple[list[int], list[tuple[int, int, int, int]]]] = []

    def apply(self, edits: _Edits) -> None:
        """Replace each (start, end) by its text; edits are sorted and disjoint."""
        if not edits:
            return
        pieces: list[str] = []
        records: list[tuple[int, int, int, int]] = []
        pos = shift = 0
        for a, b, replacement in edits:
            pieces += (self.text[pos:a], replacement)
            records.append((a + shift, a + shift + len(replacement), a, b))
            shift += len(replacement) - (b - a)
            pos = b
        pieces.append(self.text[pos:])
        self.text = "".join(pieces)
        self.passes.append(([r[0] for r in records], records))

    def span(self, a: int, b: int) -> tuple[int, int]:
        """The original span of the characters ``a`` to ``b - 1`` of the text."""
        first, last = a, b - 1  # character indexes
        for starts, records in reversed(self.passes):
            first = _back(starts, records, first, end=False)
            last = _back(starts, records, last, end=True)
        return first, last + 1


def _back(starts: list[int], records: list[tuple[int, int, int, int]], i: int, end: bool) -> int:
    """Index, before one pass, of the first (or last) character that character i came from."""
    k = bisect.bisect_right(starts, i) - 1
    if k < 0:
        return i
    _, new_end, old_start, old_end = records[k]
    if i < new_end:
        return old_end - 1 if end else old_start
    return i - new_end + old_end


@functools.lru_cache(maxsize=4096)
def _nfkc(char: str) -> str:
    return "" if _INVISIBLE_RE.match(char) else unicodedata.normalize("NFKC", char)


def _normalise(text: str) -> _Mapped:
    """NFKC per character (full-width forms and the like), invisible characters removed."""
    mapped = _Mapped(text)
    if text.isascii() or (
        unicodedata.is_normalized("NFKC", text) and _INVISIBLE_RE.search(text) is None
    ):
        return mapped
    edits: _Edits = []
    for run in _NON_ASCII_RUN.finditer(text):
        chars = run.group()
        # A character NFKC changes never appears in NFKC-normalised text, so a normalised
        # run without invisible characters has nothing to edit (most runs, when one
        # full-width comma is why the text is not normalised).
        if unicodedata.is_normalized("NFKC", chars) and _INVISIBLE_RE.search(chars) is None:
            continue
        for i, char in enumerate(chars, run.start()):
            replacement = _nfkc(char)
            if replacement != char:
                edits.append((i, i + 1, replacement))
    mapped.apply(edits)
    return mapped


def _scheme_edits(text: str) -> _Edits:
    # Every "://" after a plain lower-case scheme, and no "[:]"-style one: nothing to edit
    # (the case-insensitive regex below is slow to scan, and most links are plain).
    web = text.count("http://") + text.count("https://")
    if (
        text.count("://") == web + text.count("ftp://") + text.count("ftps://")
        and ":]" not in text
        and ":)" not in text
        and ":}" not in text
    ):
        return []
    return _scheme_edits_found(text)


def _scheme_edits_found(text: str) -> _Edits:
    edits: _Edits = []
    for m in _SCHEME_OBFUSCATED.finditer(text):
        scheme = "http" if m.group(1)[0] in "hH" else "ftp"
        replacement = f"{scheme}{m.group(2).lower()}://"
        if m.group() != replacement:
            edits.append((m.start(), m.end(), replacement))
    return edits


def _ldh_end(text: str, i: int) -> int:
    m = _LDH_RUN.match(text, i)
    return m.end() if m else i


def _label_start(text: str, end: int) -> int:
    """Start of the letters-digits-hyphens label ending at ``end``; -1 when over 63."""
    start = end
    while (
        start > 0
        and text[start - 1].isascii()
        and (text[start - 1].isalnum() or text[start - 1] == "-")
    ):
        start -= 1
        if end - start > 63:
            return -1
    return start


def _accept_spelled(text: str, chain: list[re.Match[str]], end: int) -> _Edits:
    """Edits for one chain of " dot " joins when it is clearly a host name."""
    start = _label_start(text, chain[0].start())
    if start < 0:
        return []
    bounds = [m.start() for m in chain[1:]] + [end]
    labels = [text[start : chain[0].start()]]
    labels += [text[m.end() : stop] for m, stop in zip(chain, bounds, strict=True)]
    if any(not 0 < len(x) <= 63 or x[0] == "-" or x[-1] == "-" for x in labels):
        return []
    tld = labels[-1].lower()
    after = text[end : end + 2]
    continues = after[:1] == "." and after[1:].isalnum()  # "example dot co.uk"
    clear = (
        len(chain) >= 2
        or continues
        or after[:1] == "/"
        or labels[0].lower() == "www"
        or text[start - 1 : start] == "."
        or text.endswith("://", 0, start)
        or tld in _SPELLED_DOT_TLDS
    )
    if clear and (continues or tld in top_level_domains()):
        return [(m.start(), m.end(), ".") for m in chain]
    return []


def _spelled_dot_edits(text: str) -> _Edits:
    edits: _Edits = []
    chain: list[re.Match[str]] = []
    chain_end = -1
    for m in _SPELLED_DOT.finditer(text):
        if chain and m.start() != chain_end:
            edits += _accept_spelled(text, chain, chain_end)
            chain = []
        chain.append(m)
        chain_end = _ldh_end(text, m.end())
    if chain:
        edits += _accept_spelled(text, chain, chain_end)
    return edits


def _backslash_edits(text: str) -> _Edits:
    """``\\`` read as ``/`` after a web scheme, up to the query, as browsers do."""
    edits: _Edits = []
    for m in _BACKSLASH_URL.finditer(text):
        i = text.find("\\", m.start(), m.end())
        while i >= 0:
            edits.append((i, i + 1, "/"))
            i = text.find("\\", i + 1, m.end())
    return edits


def _deobfuscate(mapped: _Mapped) -> None:
    if ":" in mapped.text:
        mapped.apply(_scheme_edits(mapped.text))
        if "\\" in mapped.text:
            mapped.apply(_backslash_edits(mapped.text))
    if ("[" in mapped.text or "(" in mapped.text or "{" in mapped.text) and _BRACKET_DOT.search(
        mapped.text
    ):
        mapped.apply([(m.start(), m.end(), ".") for m in _BRACKET_DOT.finditer(mapped.text)])
    if " dot " in mapped.text or " DOT " in mapped.text or " Dot " in mapped.text:
        mapped.apply(_spelled_dot_edits(mapped.text))


def _trim(text: str, start: int, end: int, floor: int) -> int:
    """Drop trailing punctuation, and closing brackets that do not close one in the URL."""
    excess: dict[str, int] = {}
    markdown = start > 0 and text[start - 1] == "_"  # _example.com/x_
    while end > floor:
        c = text[end - 1]
        if c in _TRAILING or (markdown and c == "_"):
            end -= 1
            continue
        opener = _OPENERS.get(c)
        if opener is None:
            break
        if c not in excess:
            excess[c] = text.count(c, start, end) - text.count(opener, start, end)
        if excess[c] <= 0:
            break
        excess[c] -= 1
        end -= 1
    return end


def _cut_first_label(text: str, s: int, e: int) -> int:
    """Start of an ASCII label glued to CJK, Thai, Hangul... text before it."""
    if text.isascii() or text[s:e].isascii():
        return s
    k = e
    while k > s and text[k - 1].isascii():
        k -= 1
    return k if s < k < e and _NO_SPACE_SCRIPT.match(text, k - 1) else s


def _cut_last_label(text: str, s: int, e: int) -> int:
    """End of an ASCII top-level domain glued to CJK, Thai, Hangul... text after it."""
    if text.isascii() or text[s:e].isascii():
        return e
    k = s
    while k < e and text[k].isascii():
        k += 1
    return k if s < k < e and _NO_SPACE_SCRIPT.match(text, k) else e


def _is_octet(label: str) -> bool:
    return label.isascii() and label.isdigit() and len(label) <= 3 and int(label) <= 255


def _bare(text: str, s: int, b: int, spans: list[tuple[int, int, bool]]) -> int:
    """Record the scheme-less URL whose host starts at ``s``, if it is one; resume point."""
    first = _LABEL.match(text, s, b)
    p = first.end() if first else s + 1
    labels = [(s, p)]
    while p + 1 < b and text[p] in ".\u3002":
        m = _LABEL.match(text, p + 1, b)
        if m is None:
            break
        labels.append(m.span())
        p = m.end()
    if len(labels) < 2:
        return p
    start = _cut_first_label(text, *labels[0])
    while start < labels[0][1] and text[start] in "-_":
        start += 1
    before = text[start - 1] if start else ""
    if start == labels[0][1] or (before and before in "/\\" and text[start - 2 : start] != "//"):
        return p  # nothing left, or a file path such as src/app.py
    labels[0] = (start, labels[0][1])
    tlds = top_level_domains()
    last_start, last_end = labels[-1]
    end = _cut_last_label(text, last_start, last_end)
    while end > last_start and text[end - 1] in "-_":
        end -= 1
    whole, used = end == last_end, len(labels)
    ip = whole and len(labels) == 4 and all(_is_octet(text[x:y]) for x, y in labels)
    if ip or (end > last_start and text[last_start:end].lower() in tlds):
        pass
    else:
        whole = False
        for j in range(len(labels) - 2, 0, -1):  # "example.com.Then" -> example.com
            if text[labels[j][0] : labels[j][1]].lower() in tlds:
                end, used = labels[j][1], j + 1
                break
        else:
            return p
    if end - start > 253 or (end - start > 63 and any(y - x > 63 for x, y in labels[:used])):
        return p
    url_end = path_start = end
    if whole:
        if text[end : end + 1] == "." and text[end + 1 : end + 2] in ("/", "?", "#", ":"):
            path_start = end + 1  # a fully qualified name: "example.org./gallery/"
        port = _PORT.match(text, path_start, b)
        if port and port.end() > path_start + 1 and (port.end() == b or text[port.end()] in "/?#"):
            url_end = path_start = port.end()
        if path_start < b and text[path_start] in "/?#":
            stop = text.find("\u3002", path_start, b)
            url_end = b if stop < 0 else stop
        if text[p : p + 1] == "@":
            return p  # the local part of an e-mail address
    if url_end == end and ip:
        return p  # a bare IPv4 address needs a path or a port: "10.0.0.1" is often no URL
    if before == "@" and url_end == path_start:
        return p  # an e-mail address's domain
    url_end = _trim(text, start, url_end, end)
    spans.append((start, url_end, False))
    return max(url_end, p)


def _scheme_url(text: str, s: int, after: int, b: int, spans: list[tuple[int, int, bool]]) -> int:
    """Record the URL whose scheme starts at ``s`` (authority at ``after``); resume point."""
    m = _AUTHORITY_END.search(text, after, b)
    authority_end = m.start() if m else b
    host_start = text.rfind("@", after, authority_end) + 1 or after
    host = _HOST.match(text, host_start, authority_end)
    if host is None:
        return after
    end = host.end()
    port = _PORT.match(text, end, authority_end)
    if port:
        end = port.end()
    if end == authority_end < b:
        stop = text.find("\u3002", end, b)
        end = b if stop < 0 else stop
    end = _trim(text, s, end, host_start)
    if end > host_start:
        spans.append((s, end, True))
    return max(end, after)


def _scheme_at(text: str, s: int, e: int) -> int:
    """Start of a known scheme that ends the label ``text[s:e]``, or -1."""
    word = text[s:e].lower()
    for scheme in _SCHEMES:
        if word.endswith(scheme):
            cut = len(word) - len(scheme)
            if cut == 0 or not (word[cut - 1].isascii() and word[cut - 1].isalnum()):
                return e - len(scheme)
    return -1


def _scan_token(text: str, a: int, b: int, spans: list[tuple[int, int, bool]]) -> None:
    pos = a
    while pos < b:
        m = _LABEL.search(text, pos, b)
        if m is None:
            return
        s, e = m.span()
        scheme_start = _scheme_at(text, s, e) if text.startswith("://", e, b) else -1
        if scheme_start >= 0:
            pos = _scheme_url(text, scheme_start, e + 3, b, spans)
        else:
            pos = _bare(text, s, b, spans)


def _may_hold_url(text: str) -> bool:
    """``_PRECHECK.search(text)``, sooner."""
    if _AT_TRIGGER.search(text) is not None:
        return True
    spelled = "dot" in text or "DOT" in text or "Dot" in text
    return spelled and _SPACED_DOT.search(text) is not None


def extract_urls(text: str) -> list[FoundUrl]:
    """Every URL in ``text``, in order, with spans in ``text`` and canonical forms."""
    if not _may_hold_url(text):
        return []
    mapped = _normalise(text)
    _deobfuscate(mapped)
    clean = mapped.text
    spans: list[tuple[int, int, bool]] = []
    for token in _TOKEN.finditer(clean):
        _scan_token(clean, token.start(), token.end(), spans)
    found: list[FoundUrl] = []
    canonical_of: dict[str, str | None] = {}
    for a, z, has_scheme in spans:
        candidate = clean[a:z]
        if candidate in canonical_of:
            result = canonical_of[candidate]
        else:
            result = canonical_of[candidate] = _canonical(candidate, has_scheme)
        if result is not None:
            start, end = mapped.span(a, z) if mapped.passes else (a, z)
            found.append(FoundUrl(start, end, text[start:end], result))
    return found


def _canonical(candidate: str, has_scheme: bool) -> str | None:
    """Canonical form of a candidate, or None when it is no URL after all."""
    if "\u3002" in candidate:
        candidate = candidate.replace("\u3002", ".")
    try:
        canonical = canonicalize(candidate[:MAX_URL_LENGTH])
    except InvalidSignal:
        return None
    if not has_scheme and "%" in canonical.split("/", 3)[2]:
        return None  # a scheme-less host that is no host name
    return canonical
