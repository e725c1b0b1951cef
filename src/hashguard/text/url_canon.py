"""Safe Browsing URL canonicalization, lookup expressions and their SHA-256 hashes.

The rules are those of Google Safe Browsing v4 ("URLs and hashing"), which hotlines' URL
lists are matched by: a list entry is one *expression* (``host/path``, no scheme, no port),
and a URL matches it when one of the URL's expressions equals it. ``example.com/`` then
covers every URL on example.com and its subdomains, ``example.com/a/`` every URL under
``/a/``, and ``example.com/a/b.html`` that page with any query.

Where the published rules say nothing, the reference client (Go) is followed, except:
escapes are written with upper-case hex digits (RFC 3986); dot segments are resolved as
RFC 3986 does (``/a/b/.`` becomes ``/a/b/``); a host with a space *inside* it, a port that
is not a number from 0 to 65535, and input over 4096 characters are errors.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

import idna

from hashguard.errors import InvalidSignal

__all__ = ["MAX_URL_LENGTH", "canonicalize", "expressions", "rule_expression", "url_sha256"]

MAX_URL_LENGTH = 4096
"""Longest input :func:`canonicalize` accepts, in characters."""

_HEXVALUE = {c: int(chr(c), 16) for c in b"0123456789abcdefABCDEF"}
# Bytes <= 0x20, >= 0x7f, '#' and '%' are escaped; the text is decoded as latin-1 first.
_ESCAPES = {i: f"%{i:02X}" for i in (*range(0x21), *range(0x7F, 0x100), 0x23, 0x25)}
_NEEDS_ESCAPE = re.compile("[^!-~]|[#%]")
_NOT_IN_HOST = re.compile("[^!-~]|[#%/?@:\\[\\]\\\\]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_PORTLIKE = re.compile(r"\d+(?:[/?]|$)")
_DOTS = re.compile(r"\.{2,}")
_DOTS_BYTES = re.compile(rb"\.{2,}")
_LDH_LABEL = re.compile(r"[a-z0-9_\-]+")
_MAX_LOOKUP_HOSTS = 5  # the exact host plus up to 4 suffixes of its last 5 labels
_MAX_PREFIX_DIRS = 3  # the root plus the first 3 directories: 4 path prefixes


def _unescape_once(data: bytes) -> bytes:
    parts = data.split(b"%")
    out = bytearray(parts[0])
    for part in parts[1:]:
        if len(part) >= 2 and part[0] in _HEXVALUE and part[1] in _HEXVALUE:
            out.append(_HEXVALUE[part[0]] << 4 | _HEXVALUE[part[1]])
            out += part[2:]
        else:
            out.append(0x25)
            out += part
    return bytes(out)


def _unescape_fully(data: bytes) -> bytes:
    """Percent-unescape until nothing changes, in linear time.

    Decoding ``%XX`` is a rewrite whose redexes never overlap and which always shortens the
    text, so every order of decoding ends in the same text. A few whole passes handle real
    URLs; a left-to-right stack finishes nested ones like ``%252525...`` in one pass.
    """
    for _ in range(4):
        if b"%" not in data:
            return data
        decoded = _unescape_once(data)
        if decoded == data:
            return data
        data = decoded
    out = bytearray()
    for byte in data:
        out.append(byte)
        while len(out) >= 3 and out[-3] == 0x25 and out[-2] in _HEXVALUE and out[-1] in _HEXVALUE:
            value = _HEXVALUE[out[-2]] << 4 | _HEXVALUE[out[-1]]
            del out[-3:]
            out.append(value)
    return bytes(out)


def _escape(data: bytes) -> str:
    text = data.decode("latin-1")
    return text if _NEEDS_ESCAPE.search(text) is None else text.translate(_ESCAPES)


def _split_scheme(text: str, url: str) -> tuple[str | None, str]:
    match = _SCHEME.match(text)
    if match is None:
        return None, text
    after = text[match.end() :]
    candidate = match.group()[:-1]
    if _PORTLIKE.match(after) or ("." in candidate and after[:1] in ("", "/", "?")):
        return None, text  # host:port, not a scheme
    if "." in candidate:
        port = after.split("/", 1)[0].split("?", 1)[0]
        raise InvalidSignal(f"URL {url!r}: port {port!r} is not a number; fix or remove it")
    return candidate.lower(), after


def _ipv4_number(part: str) -> int | None:
    low = part.lower()
    try:
        if low.startswith("0x"):
            digits = low[2:]
            if not digits or any(c not in "0123456789abcdef" for c in digits):
                return None
            value = int(digits, 16)
        elif low.isascii() and low.isdigit():
            value = int(low, 8) if len(low) > 1 and low[0] == "0" else int(low)
        else:
            return None
    except ValueError:  # 8 or 9 in an octal number
        return None
    return value if value < 1 << 32 else None


def _parse_ipv4(host: str) -> str | None:
    """Dotted-quad form of a host written as an IPv4 address in any legal form, else None.

    Decimal, octal (leading 0) and hex (0x) parts, and fewer than four parts (the last one
    fills the remaining bytes), as in ``3279880203`` or ``10.0x1.258``. Parts are masked to
    their byte width, as the reference client does.
    """
    if not host[:1].isdigit():
        return None
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    out: list[int] = []
    for i, n in enumerate(numbers):
        assert n is not None
        width = 5 - len(parts) if i == len(parts) - 1 else 1
        out.extend((n >> (8 * k)) & 0xFF for k in reversed(range(width)))
    return ".".join(map(str, out))


def _to_ascii(name: str) -> str | None:
    """IDNA (UTS 46, then IDNA 2003 for what IDNA 2008 refuses) of a Unicode host name."""
    try:
        mapped = idna.uts46_remap(name, std3_rules=False, transitional=False)
    except idna.IDNAError:
        mapped = name
    labels = []
    for label in mapped.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(idna.alabel(label).decode("ascii"))
        except (idna.IDNAError, UnicodeError):
            try:
                labels.append(label.encode("idna").decode("ascii"))
            except UnicodeError:
                return None
    name = ".".join(labels)
    # UTS 46 maps some characters to a space or to URL syntax ("\u00a8" is " \u0308"):
    # such a name is not a host name, so the escaped bytes are kept instead.
    return None if _NOT_IN_HOST.search(name) else name


def _canonical_host(authority: str, url: str) -> str:
    hostport = authority.rpartition("@")[2]
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise InvalidSignal(f"URL {url!r}: IPv6 address has no closing ']'")
        host, port = hostport[: end + 1], hostport[end + 1 :]
        if port and not port.startswith(":"):
            raise InvalidSignal(f"URL {url!r}: unexpected {port!r} after the IPv6 address")
        port = port[1:]
    else:
        host, _, port = hostport.partition(":")
    if port and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        raise InvalidSignal(
            f"URL {url!r}: port {port!r} is not a number from 0 to 65535; fix or remove it"
        )
    if host.startswith("["):
        return host.lower()
    if "[" in host or "]" in host:
        raise InvalidSignal(f"URL {url!r}: '[' and ']' may only enclose an IPv6 address")
    if "%" not in host:  # plain ASCII, nothing escaped
        name = _DOTS.sub(".", host).strip(".") if ".." in host else host.strip(".")
        if not name:
            raise InvalidSignal(f"URL {url!r} has no host name; write it as example.com/path")
        return _parse_ipv4(name) or name.lower()
    raw = _unescape_once(host.encode("ascii"))
    if raw.strip(b" ").find(b" ") >= 0:
        shown = raw.decode("utf-8", "replace")
        raise InvalidSignal(f"URL {url!r}: host {shown!r} contains a space; remove it")
    if not raw.isascii():
        try:
            ascii_name = _to_ascii(raw.decode("utf-8"))
        except UnicodeDecodeError:
            ascii_name = None
        if ascii_name is not None:
            raw = ascii_name.encode("ascii")
    raw = _DOTS_BYTES.sub(b".", raw).strip(b".") if b".." in raw else raw.strip(b".")
    if not raw:
        raise InvalidSignal(f"URL {url!r} has no host name; write it as example.com/path")
    text = raw.decode("latin-1")
    return _parse_ipv4(text) or _escape(raw.lower())


def _canonical_path(path: str) -> str:
    """Resolve ``.`` and ``..``, collapse repeated slashes; ``/`` for an empty path."""
    if "/." not in path and "//" not in path:
        return path or "/"
    segments = path.split("/")
    out: list[str] = []
    for segment in segments[1:]:
        if segment in ("", "."):
            continue
        if segment == "..":
            if out:
                out.pop()
            continue
        out.append(segment)
    tail = segments[-1] in ("", ".", "..")
    return "/" + "/".join(out) + ("/" if out and tail else "")


def canonicalize(url: str) -> str:
    """The Safe Browsing canonical form of ``url``: ``scheme://host/path[?query]``.

    Tabs, CR and LF are removed, surrounding whitespace stripped, the fragment dropped; the
    URL is percent-unescaped until it no longer changes, then bytes <= 0x20, >= 0x7F, ``#``
    and ``%`` are escaped (``%XX``). No scheme means ``http``; user info and the port are
    dropped; the host loses leading, trailing and repeated dots, is lower-cased, converted
    to punycode when it is Unicode, and an IPv4 address in any form becomes a dotted quad.
    The path has ``.``/``..`` resolved and repeated slashes collapsed; the query is kept.

    A ``str`` is UTF-8 encoded; bytes that are not valid UTF-8 can be passed in as lone
    surrogates (``bytes.decode("utf-8", "surrogateescape")``). Raises
    :class:`~hashguard.errors.InvalidSignal` when there is no host, the host has a space
    inside it, the port is bad, the URL uses a scheme without ``//host`` (``mailto:``) or
    the input is longer than 4096 characters.
    """
    if len(url) > MAX_URL_LENGTH:
        raise InvalidSignal(
            f"URL of {len(url)} characters is longer than the {MAX_URL_LENGTH} allowed; "
            "shorten it (the host and leading path are what lists match)"
        )
    text = url.strip().replace("\t", "").replace("\r", "").replace("\n", "")
    text = text.partition("#")[0]
    if not text:
        raise InvalidSignal("empty URL; give a URL such as http://example.com/page")
    if text.isascii() and _NEEDS_ESCAPE.search(text) is None:
        escaped = text  # nothing to unescape or escape
    else:
        try:
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise InvalidSignal(f"URL {url!r} contains an unpaired surrogate") from None
        escaped = _escape(_unescape_fully(data))
    scheme, rest = _split_scheme(escaped, url)
    rest, question, query = rest.partition("?")
    if scheme is None:
        scheme = "http"
        if rest.startswith("//"):  # protocol-relative
            rest = rest[2:]
    elif rest.startswith("//"):
        rest = rest[2:]
    else:
        raise InvalidSignal(
            f"URL {url!r}: '{scheme}:' is not followed by '//host'; only URLs with a host "
            "can be matched"
        )
    authority, slash, path = rest.partition("/")
    host = _canonical_host(authority, url)
    result = f"{scheme}://{host}{_canonical_path(slash + path)}"
    return f"{result}?{query}" if question else result


def _is_ip(host: str) -> bool:
    if host.startswith("["):
        return True
    if not host[-1:].isdigit():
        return False
    parts = host.split(".")
    return len(parts) == 4 and all(p.isascii() and p.isdigit() for p in parts)


def _split_canonical(canonical: str) -> tuple[str, str, str | None]:
    scheme, sep, rest = canonical.partition("://")
    host, slash, tail = rest.partition("/")
    if not sep or not host or not slash or not scheme:
        raise InvalidSignal(
            f"{canonical!r} is not a canonical URL; pass it through canonicalize() first"
        )
    path, question, query = tail.partition("?")
    return host, "/" + path, query if question else None


def expressions(canonical: str) -> list[str]:
    """The host-suffix/path-prefix expressions to look up for a canonical URL, in order.

    Hosts: the exact host, then up to 4 hosts formed from its last 5 labels by removing
    the leading label each time, never the top-level domain alone; only the exact host for
    an IP address. Paths: the exact path with the query, the exact path without it, then
    ``/`` and up to 3 directories (``/1/``, ``/1/2/``, ...). An empty query (``/q?``) adds
    no expression of its own, and no path appears twice.

    >>> expressions("http://a.b.c/1/2.html?param=1")[:4]
    ['a.b.c/1/2.html?param=1', 'a.b.c/1/2.html', 'a.b.c/', 'a.b.c/1/']
    """
    host, path, query = _split_canonical(canonical)
    if _is_ip(host):
        hosts = [host]
    else:
        labels = host.split(".")
        longest = min(len(labels) - 1, _MAX_LOOKUP_HOSTS)
        hosts = [host, *(".".join(labels[-k:]) for k in range(longest, 1, -1))]
    paths = [f"{path}?{query}", path] if query else [path]
    if path != "/":
        paths.append("/")
        prefix = "/"
        for directory in path.split("/")[1:-1][:_MAX_PREFIX_DIRS]:
            prefix += directory + "/"
            if prefix != path:
                paths.append(prefix)
    return [h + p for h in hosts for p in paths]


def _check_rule_host(host: str, rule: str) -> None:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise InvalidSignal(f"list rule {rule!r}: {host} is not an IPv6 address") from None
        return
    if "%20" in host:
        raise InvalidSignal(f"list rule {rule!r}: the host contains a space; remove it")
    if _is_ip(host):
        return
    labels = host.split(".")
    bad = [label for label in labels if not _LDH_LABEL.fullmatch(label) or len(label) > 63]
    if bad or len(host) > 253:
        raise InvalidSignal(
            f"list rule {rule!r}: {host!r} is not a valid host name (labels of letters, "
            "digits, '-' or '_', at most 63 characters each and 253 in all)"
        )
    if len(labels) == 1:
        raise InvalidSignal(
            f"list rule {rule!r} names a single-label host; Safe Browsing matching never "
            "looks up a top-level domain alone, so give a domain such as example.com"
        )


def rule_expression(rule: str) -> str:
    """The expression a URL-list entry stands for; equal to one of its URLs' expressions.

    A URL (``http://example.com/a/b.html``, ``example.com/a/``) gives its host, path and
    query (``example.com/a/b.html``); a domain (``example.com``) or wildcard domain
    (``*.example.com``) gives ``example.com/``, which covers the domain and every
    subdomain. ``*`` anywhere else in a host is refused; in the path or query it is a
    literal character (``example.com/a*b`` is that path). Entries are checked more strictly
    than URLs: the host must be a valid host name or IP address, and a top-level domain
    alone is refused.

    Note the reach of lookups: a folder entry deeper than 3 directories, or a domain entry
    of more than 5 labels, only matches the exact URL, since no URL produces a longer
    prefix or suffix.
    """
    text = rule.strip()
    if text.startswith("*."):
        text = text[2:]
    if not text:
        raise InvalidSignal("empty list rule; give a URL or a domain such as example.com")
    canonical = canonicalize(text)
    host, path, query = _split_canonical(canonical)
    # '*' is a wildcard only as the leading '*.' label (taken off above); in the path or
    # query it is the character itself (Safe Browsing's own examples have one), and no
    # host name holds one.
    if "*" in host:
        raise InvalidSignal(
            f"list rule {rule!r}: '*' is only allowed in a host as a leading '*.' label, as "
            "in *.example.com"
        )
    _check_rule_host(host, rule)
    return f"{host}{path}?{query}" if query else f"{host}{path}"


def url_sha256(expression: str) -> str:
    """Hex SHA-256 of an expression, as hashed URL lists publish them."""
    return hashlib.sha256(expression.encode("utf-8")).hexdigest()
