"""URL canonicalization, lookup expressions and extraction from chat text.

Hosts in extraction tests are RFC 2606 names (example.com/.org/.net, *.example, *.test)
or made up. The canonicalization vectors are the published Safe Browsing v4 examples:
facts about the algorithm, never fetched.
"""

from __future__ import annotations

import itertools
import re
import time
import unicodedata
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashguard.errors import HashguardError, InvalidSignal
from hashguard.text import url_canon, url_extract
from hashguard.text.urls import (
    FoundUrl,
    canonicalize,
    expressions,
    extract_urls,
    rule_expression,
    top_level_domains,
    url_sha256,
)

# --- canonicalize: the Safe Browsing v4 "URLs and hashing" examples, all of them ---------

SAFE_BROWSING_EXAMPLES = [
    ("http://host/%25%32%35", "http://host/%25"),
    ("http://host/%25%32%35%25%32%35", "http://host/%25%25"),
    ("http://host/%2525252525252525", "http://host/%25"),
    ("http://host/asdf%25%32%35asd", "http://host/asdf%25asd"),
    ("http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"),
    ("http://www.google.com/", "http://www.google.com/"),
    (
        "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/"
        "%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
        "http://168.188.99.26/.secure/www.ebay.com/",
    ),
    (
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/"
        ".eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/"
        ".eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
    ),
    (
        "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833"
        "%252944_55%252B",
        "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
    ),
    ("http://3279880203/blah", "http://195.127.0.11/blah"),
    ("http://www.google.com/blah/..", "http://www.google.com/"),
    ("www.google.com/", "http://www.google.com/"),
    ("www.google.com", "http://www.google.com/"),
    ("http://www.evil.com/blah#frag", "http://www.evil.com/blah"),
    ("http://www.GOOgle.com/", "http://www.google.com/"),
    ("http://www.google.com.../", "http://www.google.com/"),
    ("http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2"),
    ("http://www.google.com/q?", "http://www.google.com/q?"),
    ("http://www.google.com/q?r?", "http://www.google.com/q?r?"),
    ("http://www.google.com/q?r?s", "http://www.google.com/q?r?s"),
    ("http://evil.com/foo#bar#baz", "http://evil.com/foo"),
    ("http://evil.com/foo;", "http://evil.com/foo;"),
    ("http://evil.com/foo?bar;", "http://evil.com/foo?bar;"),
    # The docs' input is the bytes 01 80; a str carries a lone byte as a surrogate escape.
    (b"http://\x01\x80.com/".decode("utf-8", "surrogateescape"), "http://%01%80.com/"),
    ("http://notrailingslash.com", "http://notrailingslash.com/"),
    ("http://www.gotaport.com:1234/", "http://www.gotaport.com/"),
    ("  http://www.google.com/  ", "http://www.google.com/"),
    ("http:// leadingspace.com/", "http://%20leadingspace.com/"),
    ("http://%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("https://www.securesite.com/", "https://www.securesite.com/"),
    ("http://host.com/ab%23cd", "http://host.com/ab%23cd"),
    ("http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes"),
]


@pytest.mark.parametrize(("url", "canonical"), SAFE_BROWSING_EXAMPLES)
def test_safe_browsing_examples(url: str, canonical: str) -> None:
    assert canonicalize(url) == canonical


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        # More cases of the reference client, and the rules the docs state in words.
        ("ftp://ftp.example.net/", "ftp://ftp.example.net/"),
        ("http://www.\u00fcmlat.example/", "http://www.xn--mlat-zra.example/"),
        ("http%3A%2F%2Fwacky.example:80/", "http://wacky.example/"),
        ("http://W!eird<>Ho$^.example/", "http://w!eird<>ho$^.example/"),
        ("http://example.com/foo%09bar%0dbaz%0a2", "http://example.com/foo%09bar%0Dbaz%0A2"),
        ("http://example.com//a//b///c////", "http://example.com/a/b/c/"),
        ("http://example.com/foo/.././bar/./../foo.html", "http://example.com/foo.html"),
        ("http://example.com/a/b/.", "http://example.com/a/b/"),
        ("http://example.com/a/b/c/../..", "http://example.com/a/"),
        ("http://..example.com../", "http://example.com/"),
        ("http://example...com/", "http://example.com/"),
        ("HTTPS://user:secret@Example.COM:8443/x", "https://example.com/x"),
        ("example.com:8080/foo.html", "http://example.com/foo.html"),
        ("example.com:80", "http://example.com/"),
        ("//example.com/x", "http://example.com/x"),
        ("http://example.com?q=1", "http://example.com/?q=1"),
        ("http://0x12.0x43.0x44.0x01/", "http://18.67.68.1/"),
        ("http://012.034.01.055/", "http://10.28.1.45/"),
        ("http://12.0x12.01234/", "http://12.18.2.156/"),
        ("http://167838211/", "http://10.1.2.3/"),
        ("http://4294967295/", "http://255.255.255.255/"),
        ("http://276.2.3/", "http://20.2.0.3/"),  # masked to bytes, as the reference does
        ("http://1.2.3.00x0/", "http://1.2.3.00x0/"),  # not a number: a host name
        ("http://123.123.0.0.1/", "http://123.123.0.0.1/"),  # five parts: a host name
        ("http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"),
        ("http://b\u00fccher.example/", "http://xn--bcher-kva.example/"),
        ("http://\u4f8b\u5b50.\u4e2d\u56fd/", "http://xn--fsqu00a.xn--fiqs8s/"),
        ("http://i\u2764.example/", "http://xn--i-7iq.example/"),  # IDNA 2003 fallback
        ("http://EXAMPLE\uff0eCOM/", "http://example.com/"),  # UTS 46 mapping
        ("http://example.com/caf\u00e9", "http://example.com/caf%C3%A9"),
        ("http://example.com/%E2%9C%93", "http://example.com/%E2%9C%93"),
    ],
)
def test_canonicalize_more(url: str, canonical: str) -> None:
    assert canonicalize(url) == canonical


def test_a_str_is_utf8_encoded() -> None:
    assert canonicalize("http://\x01\x80.com/") == "http://%01%C2%80.com/"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("#ref", "empty"),
        (":", "no host"),
        ("/blah", "no host"),
        ("/blah#ref", "no host"),
        ("?query#ref", "no host"),
        ("/blah?query#ref", "no host"),
        ("/blah;param", "no host"),
        ("http://#ref", "no host"),
        ("http:///blah#ref", "no host"),
        ("http://?query#ref", "no host"),
        ("http:///blah?query#ref", "no host"),
        ("http:///blah;param?query#ref", "no host"),
        ("http://.../", "no host"),
        ("mailto:someone@example.com", "not followed by '//host'"),
        ("http:example.com", "not followed by '//host'"),
        ("http://example.com:abc/", "port 'abc'"),
        ("http://example.com:99999/", "port '99999'"),
        ("example.com:xxyy/foo.html:80", "port 'xxyy'"),
        ("http://exa mple.com/", "contains a space"),
        ("http://[2001:db8::1/", "no closing ']'"),
        ("http://[2001:db8::1]x/", "after the IPv6 address"),
        ("http://example.com/" + "a" * 4100, "longer than the 4096"),
        ("http://example.com/\ud800", "surrogate"),
    ],
)
def test_malformed_urls(url: str, message: str) -> None:
    with pytest.raises(InvalidSignal, match=re.escape(message)) as caught:
        canonicalize(url)
    assert isinstance(caught.value, HashguardError)
    assert caught.value.http_status == 422


def _unescape_by_passes(data: bytes) -> bytes:
    while True:
        once = urllib.parse.unquote_to_bytes(data)
        if once == data:
            return data
        data = once


@given(st.binary(max_size=60).map(lambda b: b.translate(bytes.maketrans(b"\x00\x01\x02", b"%25"))))
def test_linear_unescape_equals_repeated_passes(data: bytes) -> None:
    assert url_canon._unescape_fully(data) == _unescape_by_passes(data)


def test_deeply_nested_escapes_are_fast() -> None:
    url = "http://example.com/%" + "25" * 2000
    started = time.perf_counter()
    assert canonicalize(url) == "http://example.com/%25"
    assert time.perf_counter() - started < 10  # a hang guard; speed lives in bench/


_URLISH = st.lists(
    st.sampled_from([*"aZ09.-_/?#%:@[]!~ \t\u00fc", "%2e", "%25", "%41", "..", "/../"]),
    max_size=30,
).map("".join)


@settings(max_examples=300)
@given(
    st.sampled_from(["http://", "https://", ""]),
    st.from_regex(r"[a-z]{1,8}\.(com|org|example)", fullmatch=True),
    _URLISH,
)
def test_canonicalize_is_idempotent(scheme: str, host: str, tail: str) -> None:
    try:
        once = canonicalize(f"{scheme}{host}/{tail}")
    except InvalidSignal:
        return
    assert canonicalize(once) == once


# --- expressions ---------------------------------------------------------------------


def test_expressions_docs_example_with_query() -> None:
    assert expressions(canonicalize("http://a.b.c/1/2.html?param=1")) == [
        "a.b.c/1/2.html?param=1",
        "a.b.c/1/2.html",
        "a.b.c/",
        "a.b.c/1/",
        "b.c/1/2.html?param=1",
        "b.c/1/2.html",
        "b.c/",
        "b.c/1/",
    ]


def test_expressions_docs_example_many_labels() -> None:
    assert expressions(canonicalize("http://a.b.c.d.e.f.g/1.html")) == [
        "a.b.c.d.e.f.g/1.html",
        "a.b.c.d.e.f.g/",
        "c.d.e.f.g/1.html",
        "c.d.e.f.g/",
        "d.e.f.g/1.html",
        "d.e.f.g/",
        "e.f.g/1.html",
        "e.f.g/",
        "f.g/1.html",
        "f.g/",
    ]


def test_expressions_docs_example_ip() -> None:
    assert expressions(canonicalize("http://1.2.3.4/1/")) == ["1.2.3.4/1/", "1.2.3.4/"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://a.b.c/1/2/3/4/5/",
            [
                *("a.b.c/1/2/3/4/5/", "a.b.c/", "a.b.c/1/", "a.b.c/1/2/", "a.b.c/1/2/3/"),
                *("b.c/1/2/3/4/5/", "b.c/", "b.c/1/", "b.c/1/2/", "b.c/1/2/3/"),
            ],
        ),
        (
            "http://a.b.c.d.e/1.html",
            [
                *("a.b.c.d.e/1.html", "a.b.c.d.e/", "b.c.d.e/1.html", "b.c.d.e/"),
                *("c.d.e/1.html", "c.d.e/", "d.e/1.html", "d.e/"),
            ],
        ),
        (
            "http://b.c/1/2/3.html?param=1/2",
            ["b.c/1/2/3.html?param=1/2", "b.c/1/2/3.html", "b.c/", "b.c/1/", "b.c/1/2/"],
        ),
        ("http://a.b/?", ["a.b/"]),
        ("http://a.b/", ["a.b/"]),
        ("http://b/", ["b/"]),
        (
            "http://[2001:470:1:18::114]/a/b",
            ["[2001:470:1:18::114]/a/b", "[2001:470:1:18::114]/", "[2001:470:1:18::114]/a/"],
        ),
        ("http://1.2.3.4/a/b", ["1.2.3.4/a/b", "1.2.3.4/", "1.2.3.4/a/"]),
    ],
)
def test_expressions_reference_cases(url: str, expected: list[str]) -> None:
    assert expressions(canonicalize(url)) == expected


def test_expressions_are_bounded() -> None:
    found = expressions(canonicalize("http://a.b.c.d.e.f.g.h/1/2/3/4/5/6.html?q=1"))
    assert len(found) == 5 * 6
    assert len(set(found)) == len(found)


@pytest.mark.parametrize("text", ["example.com/", "http://", "http:///", "ftp:/x/"])
def test_expressions_need_a_canonical_url(text: str) -> None:
    with pytest.raises(InvalidSignal, match="canonicalize"):
        expressions(text)


# --- rule_expression -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expression"),
    [
        ("example.com", "example.com/"),
        ("*.example.com", "example.com/"),
        ("  EXAMPLE.com.  ", "example.com/"),
        ("example.com/", "example.com/"),
        ("http://example.com", "example.com/"),
        ("example.com/a/", "example.com/a/"),
        ("https://user@example.com:8443/a/b.html?x=1#top", "example.com/a/b.html?x=1"),
        ("*.example.com/a/", "example.com/a/"),
        ("b\u00fccher.example", "xn--bcher-kva.example/"),
        ("192.0.2.1", "192.0.2.1/"),
        ("3221225985/a", "192.0.2.1/a"),
        ("[2001:db8::1]/x", "[2001:db8::1]/x"),
        ("sub_domain.example.org", "sub_domain.example.org/"),
        # '*' outside a leading '*.' label is a character: Safe Browsing's example path
        # (its host here an RFC 2606 name), written plain and escaped as the docs give it.
        (
            "http://host.example.org/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
            "host.example.org/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
        ),
        (
            "http://host.example.org/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22"
            "%252833%252944_55%252B",
            "host.example.org/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
        ),
        ("example.com/search?q=*", "example.com/search?q=*"),
        ("*.example.com/a*b/", "example.com/a*b/"),
        ("example.com/*", "example.com/*"),
    ],
)
def test_rule_expression(rule: str, expression: str) -> None:
    assert rule_expression(rule) == expression


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "empty list rule"),
        ("*.", "empty list rule"),
        ("ex*ample.com", "leading '*.' label"),
        ("*.*.example.com", "leading '*.' label"),
        ("http://*.example.com/", "leading '*.' label"),
        ("example.com*/a", "leading '*.' label"),
        ("ex%2Aample.com/a*", "leading '*.' label"),
        ("com", "top-level domain alone"),
        ("*.com", "top-level domain alone"),
        ("exa mple.com", "contains a space"),
        ("%20example.com", "contains a space"),
        ("exa!mple.com", "not a valid host name"),
        ("a" * 64 + ".example", "not a valid host name"),
        ("example.com:0x50/", "port"),
        ("[2001:db8::zz]/x", "not an IPv6 address"),
    ],
)
def test_rule_expression_errors(rule: str, message: str) -> None:
    with pytest.raises(InvalidSignal, match=re.escape(message)):
        rule_expression(rule)


@pytest.mark.parametrize(
    ("rule", "matching", "not_matching"),
    [
        (
            "*.example.com",
            ["http://example.com/", "https://a.b.example.com/x/y?z=1", "EXAMPLE.com"],
            ["http://example.org/", "http://notexample.com/", "http://example.com.example/"],
        ),
        (
            "example.com/a/",
            ["http://example.com/a/", "http://example.com/a/b/c.html?x", "http://w.example.com/a/"],
            ["http://example.com/ab/", "http://example.com/", "http://example.com/b/a/"],
        ),
        (
            "example.com/a/b.html",
            ["http://example.com/a/b.html", "http://example.com/a/b.html?q=1#f"],
            ["http://example.com/a/b.html/x", "http://example.com/a/b.htm"],
        ),
        (
            "http://example.com/a/b.html?q=1",
            ["http://example.com/a/b.html?q=1"],
            ["http://example.com/a/b.html", "http://example.com/a/b.html?q=2"],
        ),
        ("192.0.2.1", ["http://192.0.2.1/x", "http://3221225985/"], ["http://192.0.2.2/"]),
        (
            "example.com/a*b/",
            ["http://example.com/a*b/c.html", "http://example.com/a%2Ab/"],
            ["http://example.com/ab/", "http://example.com/aXb/", "http://example.com/a/"],
        ),
    ],
)
def test_rule_expression_is_one_of_the_matching_urls_expressions(
    rule: str, matching: list[str], not_matching: list[str]
) -> None:
    expression = rule_expression(rule)
    for url in matching:
        assert expression in expressions(canonicalize(url)), url
    for url in not_matching:
        assert expression not in expressions(canonicalize(url)), url


# --- url_sha256 ----------------------------------------------------------------------


def test_url_sha256() -> None:
    # FIPS 180-2 test vector for "abc".
    assert url_sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    digest = url_sha256(rule_expression("example.com"))
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest in {url_sha256(e) for e in expressions(canonicalize("http://a.example.com/x"))}


# --- extract_urls --------------------------------------------------------------------


def _found(text: str) -> list[tuple[str, str]]:
    """(raw, canonical) of each URL, checking the span against the original text."""
    found = extract_urls(text)
    for item in found:
        assert isinstance(item, FoundUrl)
        assert text[item.start : item.end] == item.raw
    assert [f.start for f in found] == sorted(f.start for f in found)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    return [(f.raw, f.canonical) for f in found]


def _one(text: str, raw: str, canonical: str) -> None:
    found = extract_urls(text)
    assert [(f.raw, f.canonical) for f in found] == [(raw, canonical)]
    assert (found[0].start, found[0].end) == (text.index(raw), text.index(raw) + len(raw))


def test_found_url_is_frozen() -> None:
    found = extract_urls("see example.com")[0]
    assert found == FoundUrl(4, 15, "example.com", "http://example.com/")
    with pytest.raises(AttributeError):
        found.start = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "raw", "canonical"),
    [
        ("go to http://example.com/a/b?c=1 now", "http://example.com/a/b?c=1", None),
        ("HTTPS://Example.ORG/X#frag", "HTTPS://Example.ORG/X#frag", "https://example.org/X"),
        ("ftp://files.example.net/x", "ftp://files.example.net/x", None),
        ("local http://localhost:8080/admin too", "http://localhost:8080/admin", None),
        ("www.example.com/x", "www.example.com/x", "http://www.example.com/x"),
        ("read example.com/path?q=1 today", "example.com/path?q=1", None),
        ("sub.example.org is up", "sub.example.org", "http://sub.example.org/"),
        ("at example.com:8443/login", "example.com:8443/login", "http://example.com/login"),
        ("tor: abcdefghijklmnop.onion/x", "abcdefghijklmnop.onion/x", None),
        ("hello.test", "hello.test", "http://hello.test/"),
        ("visit 195.127.0.11/uploads/x", "195.127.0.11/uploads/x", None),
        ("http://3279880203/blah", "http://3279880203/blah", "http://195.127.0.11/blah"),
        ("http://[2001:db8::1]:80/a ok", "http://[2001:db8::1]:80/a", "http://[2001:db8::1]/a"),
    ],
)
def test_plain_urls(text: str, raw: str, canonical: str | None) -> None:
    _one(text, raw, canonical or canonicalize(raw))


# One test per obfuscation in the module's table.


def test_hxxp() -> None:
    _one("get hxxp://evil.example/x here", "hxxp://evil.example/x", "http://evil.example/x")
    _one("hXXps://evil.example/", "hXXps://evil.example/", "https://evil.example/")


def test_stars_in_scheme() -> None:
    _one("h**p://evil.example/a", "h**p://evil.example/a", "http://evil.example/a")
    _one("h**ps://evil.example/a", "h**ps://evil.example/a", "https://evil.example/a")


def test_fxp() -> None:
    _one("fxp://files.example/", "fxp://files.example/", "ftp://files.example/")


@pytest.mark.parametrize("sep", ["[:]//", "(:)//", "{:}//", "[://]", "(://)", "{://}"])
def test_bracketed_scheme_separator(sep: str) -> None:
    raw = f"hxxp{sep}evil.example/p"
    _one(f"link: {raw}", raw, "http://evil.example/p")


@pytest.mark.parametrize(
    "raw",
    [
        "evil[.]example/p",
        "evil(.)example/p",
        "evil{.}example/p",
        "evil [.] example/p",
        "evil [ . ] example/p",
        "evil[dot]example/p",
        "evil [DOT] example/p",
        "evil(dot)example/p",
        "evil{Dot}example/p",
    ],
)
def test_bracketed_dot(raw: str) -> None:
    _one(f"look at {raw} ok", raw, "http://evil.example/p")


def test_bracketed_dots_with_scheme() -> None:
    raw = "hxxps[:]//www[.]evil[.]example[.]com/a/b"
    _one(f"IOC: {raw}", raw, "https://www.evil.example.com/a/b")


@pytest.mark.parametrize(
    ("text", "raw", "canonical"),
    [
        ("go to www dot example dot org now", "www dot example dot org", "http://www.example.org/"),
        ("sub DOT example DOT net", "sub DOT example DOT net", "http://sub.example.net/"),
        ("example dot com/path ok", "example dot com/path", "http://example.com/path"),
        ("visit example dot com", "example dot com", "http://example.com/"),
        ("http://example dot org/x", "http://example dot org/x", "http://example.org/x"),
        ("www.example dot net", "www.example dot net", "http://www.example.net/"),
    ],
)
def test_spelled_out_dot(text: str, raw: str, canonical: str) -> None:
    _one(text, raw, canonical)


@pytest.mark.parametrize(
    "text",
    ["I like polka dot in summer", "join the dots dot to dot", "a dot is small", "dot com"],
)
def test_spelled_out_dot_only_when_clearly_a_host(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
def test_zero_width_characters(char: str) -> None:
    raw = f"ev{char}il.exa{char}mple/p{char}ath"
    _one(f"see {raw} !", raw, "http://evil.example/path")


def test_bidi_controls_inside_a_url() -> None:
    raw = "evil\u202e.example\u202c/x"
    _one(raw, raw, "http://evil.example/x")


def test_full_width_forms() -> None:
    raw = "\uff45\uff56\uff49\uff4c\uff0e\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0f\uff58"
    _one(f"\u8bf7\u770b {raw} \u8c22\u8c22", raw, "http://evil.example/x")
    raw = "http\uff1a\uff0f\uff0fevil\uff0eexample"
    _one(raw, raw, "http://evil.example/")


def test_other_dot_look_alikes() -> None:
    _one("evil\u2024example/x", "evil\u2024example/x", "http://evil.example/x")
    _one("evil\ufe52example", "evil\ufe52example", "http://evil.example/")


def test_ideographic_full_stop() -> None:
    _one(
        "\u8bbf\u95eeevil\u3002example/x\u3002\u8c22\u8c22",
        "evil\u3002example/x",
        "http://evil.example/x",
    )
    _one("evil\uff61example", "evil\uff61example", "http://evil.example/")


def test_percent_encoding_tricks() -> None:
    raw = "http://%65vil%2Eexample/%61%2F%2562"
    _one(raw, raw, "http://evil.example/a/b")  # %2562 -> %62 -> b
    _one("http://evil.example/%2E%2E/x", "http://evil.example/%2E%2E/x", "http://evil.example/x")


def test_user_info_and_numeric_hosts() -> None:
    _one(
        "http://safe.example.com@evil.example/x",
        "http://safe.example.com@evil.example/x",
        "http://evil.example/x",
    )
    _one("http://0xC37F000B/x", "http://0xC37F000B/x", "http://195.127.0.11/x")


def test_idn_hosts() -> None:
    _one("see b\u00fccher.example/x", "b\u00fccher.example/x", "http://xn--bcher-kva.example/x")
    _one(
        "http://\u043f\u0440\u0438\u043c\u0435\u0440.\u0438\u0441\u043f\u044b\u0442\u0430\u043d\u0438\u0435/",
        "http://\u043f\u0440\u0438\u043c\u0435\u0440.\u0438\u0441\u043f\u044b\u0442\u0430\u043d\u0438\u0435/",
        "http://xn--e1afmkfd.xn--80akhbyknj4f/",
    )
    _one("\u4f8b\u5b50.\u4e2d\u56fd", "\u4f8b\u5b50.\u4e2d\u56fd", "http://xn--fsqu00a.xn--fiqs8s/")


# Boundaries.


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("Go to example.com.", "example.com"),
        ("example.com, then", "example.com"),
        ("is it example.com?", "example.com"),
        ("wow example.com!", "example.com"),
        ("see example.com/a.", "example.com/a"),
        ("see http://example.com/a?x=1;", "http://example.com/a?x=1"),
        ("'example.com/x'", "example.com/x"),
        ('"http://example.com/x"', "http://example.com/x"),
        ("\u201chttp://example.com/x\u201d", "http://example.com/x"),
        ("\u00abexample.com\u00bb", "example.com"),
        ("(see example.com/a)", "example.com/a"),
        ("(http://example.com/a)", "http://example.com/a"),
        ("https://en.example.org/wiki/Foo_(bar)", "https://en.example.org/wiki/Foo_(bar)"),
        ("(https://en.example.org/wiki/Foo_(bar))", "https://en.example.org/wiki/Foo_(bar)"),
        ("[http://example.com/a]", "http://example.com/a"),
        ("<http://example.com/a>", "http://example.com/a"),
        ("[click](http://example.com/a)", "http://example.com/a"),
        ("**example.com**", "example.com"),
        ("_http://example.com/a_", "http://example.com/a"),
        ("example.com\U0001f600\U0001f600", "example.com"),
        ("\U0001f449example.com/x\U0001f448", "example.com/x"),
        ("\u770b\u8fd9\u4e2aexample.com\u5f88\u597d", "example.com"),
        ("\u30b5\u30a4\u30c8\u306fexample.com\u3067\u3059", "example.com"),
        ("example.com\uc5d0\uc11c \ud655\uc778", "example.com"),
        ("\u0627\u0646\u0638\u0631 example.com\u060c \u0634\u0643\u0631\u0627", "example.com"),
        ("Visit example.com.Then leave", "example.com"),
        ("see http://example.com/a|b", "http://example.com/a"),
    ],
)
def test_url_boundaries(text: str, raw: str) -> None:
    assert [r for r, _ in _found(text)] == [raw]


@pytest.mark.parametrize(
    ("text", "raw", "canonical"),
    [
        # A fully qualified host (trailing dot) keeps what follows it.
        (
            "see example.org./gallery/page.html now",
            "example.org./gallery/page.html",
            "http://example.org/gallery/page.html",
        ),
        ("at example.org.:8080/x", "example.org.:8080/x", "http://example.org/x"),
        ("at example.org.?q=1", "example.org.?q=1", "http://example.org/?q=1"),
        ("http://example.org./gallery/x", "http://example.org./gallery/x", None),
    ],
)
def test_trailing_dot_hosts_keep_their_path(text: str, raw: str, canonical: str | None) -> None:
    _one(text, raw, canonical or "http://example.org/gallery/x")


@pytest.mark.parametrize(
    ("text", "raw", "canonical"),
    [
        # After a web scheme a backslash is a slash, as browsers (the WHATWG URL standard)
        # read it; the span is what the sender wrote.
        (
            "go http://example.net\\gallery\\x now",
            "http://example.net\\gallery\\x",
            "http://example.net/gallery/x",
        ),
        ("HTTPS://example.net\\a/b\\c.html", None, "https://example.net/a/b/c.html"),
        ("http:\\\\example.net\\x", None, "http://example.net/x"),
        ("hxxp://example.net\\x", None, "http://example.net/x"),
        ("http:\\\\localhost\\admin", None, "http://localhost/admin"),  # no dot in it
        ("http://example.net/a?q=\\x", "http://example.net/a?q=", None),  # the query's own
    ],
)
def test_backslashes_after_a_scheme_are_slashes(
    text: str, raw: str | None, canonical: str | None
) -> None:
    _one(text, raw or text, canonical or canonicalize(raw or text))


def test_backslashes_without_a_scheme_stay_delimiters() -> None:
    # A Windows path or a host then a backslash: not read as a URL path.
    assert _found("C:\\Users\\me\\notes.md") == []
    assert _found("example.net\\gallery") == [("example.net", "http://example.net/")]


def test_markdown_link_text_and_target_are_both_found() -> None:
    assert _found("[safe.example](http://evil.example/x)") == [
        ("safe.example", "http://safe.example/"),
        ("http://evil.example/x", "http://evil.example/x"),
    ]


def test_several_urls_in_one_message() -> None:
    text = "a.example.com,b.example.org and hxxp://c[.]example.net/x \U0001f525 www.example.com"
    assert [c for _, c in _found(text)] == [
        "http://a.example.com/",
        "http://b.example.org/",
        "http://c.example.net/x",
        "http://www.example.com/",
    ]


def test_url_with_email_like_user_info_and_path() -> None:
    assert _found("user@example.com/path") == [("example.com/path", "http://example.com/path")]


@pytest.mark.parametrize(
    "text",
    [
        "see report.pdf and photo.jpg",  # .pdf, .jpg are no top-level domains
        "version 1.2.3 or 10.4",
        "wait...what",
        "wait\u2026what",
        "e.g. this, i.e. that, a.m. p.m. U.S.",
        "mail me at someone@example.com",
        "first.last@example.org",
        "server 10.0.0.1 is down",
        "open src/app.py and lib\\util.py",
        "example . com",
        "example,com",
        "it costs 3.50 EUR",
        "http:// nothing",
        "http://",
        "not a url: foo:bar",
        "file.tar.gz",
        "1.2.3.4:abc",
        "",
        "   ",
        "\U0001f600\U0001f600\U0001f600",
    ],
)
def test_not_extracted(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("1.2.3.4:8080", "1.2.3.4:8080"),
        ("at 192.0.2.1:8080/admin.", "192.0.2.1:8080/admin"),
        ("see //example.com/x", "example.com/x"),
    ],
)
def test_bare_ip_with_port_or_path_and_protocol_relative(text: str, raw: str) -> None:
    assert [r for r, _ in _found(text)] == [raw]


@pytest.mark.parametrize(
    "around",
    [
        "\ufb01\ufb01 ",
        "\u2026\u2026 ",
        "\u200b\u200b ",
        "\uff58\uff58 ",
        "\u2460\u2461 ",
        "\u3371 ",
    ],
)
def test_spans_survive_characters_that_change_length(around: str) -> None:
    text = f"{around}x ev\u200bil.example/x {around}"
    found = extract_urls(text)
    assert [(f.raw, f.canonical) for f in found] == [
        ("ev\u200bil.example/x", "http://evil.example/x")
    ]
    assert found[0].start == text.index("ev")


def test_file_names_with_a_top_level_domain_extension_are_extracted() -> None:
    # .py, .md, .zip and .mov are real top-level domains: looked up, harmless if unlisted.
    assert [r for r, _ in _found("main.py notes.md archive.zip clip.mov")] == [
        "main.py",
        "notes.md",
        "archive.zip",
        "clip.mov",
    ]


def test_over_long_host_is_not_a_host() -> None:
    assert _found("a" * 64 + ".example.com") == []
    assert _found(("ab." * 90) + "com") == []


def test_over_long_url_is_reported_from_its_first_4096_characters() -> None:
    raw = "http://example.com/a/" + "b" * 5000
    found = extract_urls(f"x {raw} y")
    assert [(f.start, f.end, f.raw) for f in found] == [(2, 2 + len(raw), raw)]
    assert found[0].canonical == canonicalize(raw[:4096])


def test_top_level_domains() -> None:
    tlds = top_level_domains()
    assert {"com", "org", "net", "uk", "onion", "example", "test", "zip"} <= tlds
    assert {"\u4e2d\u56fd", "xn--fiqs8s"} <= tlds
    assert not {"pdf", "jpg", "exe", "txt", "html"} & tlds


# The cheap pre-check must let through every text the full scan could find a URL in.


def test_precheck_covers_every_dot_colon_and_slash_look_alike() -> None:
    for precheck in (url_extract._PRECHECK.search, url_extract._may_hold_url):
        for code in range(0x80, 0x30000):
            char = chr(code)
            folded = unicodedata.normalize("NFKC", char)
            if "." in folded and ".." not in folded:
                assert precheck(f"x{char}y"), hex(code)
            if ":" in folded:
                assert precheck(f"x{char}/"), hex(code)
            if "/" in folded:
                assert precheck(f":{char}"), hex(code)


_MESSAGE_PIECES = st.sampled_from(
    [
        "a", "example", "com", "org", "www", ".", "..", "\u3002", "/", ":", "://", "http",
        "hxxp", "[.]", "(.)", "[dot]", " dot ", " Dot ", " dOt ", " ", "\u200b", "\uff0e", "@",
        "?", "#", "%2e", "(", ")", "[", "]", "\u4f8b", "\u00fc", "1", "255", "\U0001f600", ",",
        "!", "_", "-", "\\",
    ]
)  # fmt: skip


@settings(max_examples=1000)
@given(st.lists(_MESSAGE_PIECES | st.text(max_size=3), max_size=25).map("".join))
def test_the_quick_precheck_is_the_precheck(text: str) -> None:
    for piece in ("", " dot ", "x.y", "\u2488"):  # before and after the first trigger
        for joined in (piece + text, text + piece):
            expected = url_extract._PRECHECK.search(joined) is not None
            assert url_extract._may_hold_url(joined) == expected, joined


# Each alternative of _PRECHECK alone, and near misses of each.
_PRECHECK_CASES = [
    "a.b", "a\u3002b", "a. b", "a..b", "a.1", "a.12/", " .1/", " .b",
    "1.2/", "1.23:", "1.234/", "1.2", "1.2345/",
    "(:x", "[ dot", "{.", "( x", "[d",
    " dot ", "dot ", " Dot ", " dOt ",
    ":)", "\uff1a\uff0f", ":]", ": )", "\ufe55/", ":\\", ": \\",
    "\u200b", "\u2488", "\U0001f100", "\U000e0041",
]  # fmt: skip


@pytest.mark.parametrize("case", _PRECHECK_CASES)
def test_the_quick_precheck_is_the_precheck_on_each_alternative(case: str) -> None:
    for text in (case, f"x {case} y", f"{case}{case}", f"ab{case}"):
        expected = url_extract._PRECHECK.search(text) is not None
        assert url_extract._may_hold_url(text) == expected, text


@settings(max_examples=1000)
@given(
    st.lists(
        _MESSAGE_PIECES
        | st.sampled_from(["HTTP", "hTTps", "ftp", "fxp", "h**p", "[:]", "(:)", "{:}"]),
        max_size=25,
    ).map("".join)
)
def test_the_quick_scheme_check_is_the_regex(text: str) -> None:
    assert url_extract._scheme_edits(text) == url_extract._scheme_edits_found(text)


@pytest.mark.parametrize(
    "text",
    [
        "see h**p(:)//x.com",
        "hxxp[:]//x",
        "fxp{:}//x",
        "HTTP://x",
        "hxxps[://]x",
        "http://a hxxp://b",
    ],
)
def test_obfuscated_schemes_are_never_skipped(text: str) -> None:
    edits = url_extract._scheme_edits(text)
    assert edits and edits == url_extract._scheme_edits_found(text)


@settings(max_examples=400)
@given(st.lists(_MESSAGE_PIECES, max_size=25).map("".join))
def test_precheck_never_hides_a_url(text: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(url_extract, "_may_hold_url", lambda text: True)
        unfiltered = extract_urls(text)
    assert extract_urls(text) == unfiltered
    for found in unfiltered:
        assert text[found.start : found.end] == found.raw
        assert canonicalize(found.canonical) == found.canonical


@settings(max_examples=1000)
@given(st.lists(_MESSAGE_PIECES | st.text(max_size=4), max_size=20).map("".join))
def test_normalising_skips_only_runs_nothing_changes_in(text: str) -> None:
    """Each character NFKC-normalised on its own, invisible ones removed: the definition,
    which the per-run shortcut must give."""
    expected = "".join(
        "" if url_extract._INVISIBLE_RE.match(c) else unicodedata.normalize("NFKC", c) for c in text
    )
    assert url_extract._normalise(text).text == expected


@settings(max_examples=500)
@given(st.text(max_size=80))
def test_any_text_gives_well_formed_results(text: str) -> None:
    found = extract_urls(text)
    for item in found:
        assert 0 <= item.start < item.end <= len(text)
        assert text[item.start : item.end] == item.raw
        assert canonicalize(item.canonical) == item.canonical
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


@settings(max_examples=500)
@given(st.one_of(st.text(max_size=40), _URLISH))
def test_canonicalize_accepts_or_refuses_any_text(text: str) -> None:
    try:
        once = canonicalize(text)
    except InvalidSignal:
        return
    assert canonicalize(once) == once
    assert expressions(once)


@pytest.mark.parametrize(("url", "canonical"), [("\u00a8", "http://%C2%A8/"), (".a", "http://a/")])
def test_hosts_idna_cannot_map_stay_escaped(url: str, canonical: str) -> None:
    assert canonicalize(url) == canonical


def test_brackets_outside_an_ipv6_address_are_refused() -> None:
    with pytest.raises(InvalidSignal, match="IPv6"):
        canonicalize(".[")


# Adversarial inputs: every step is linear, so each 100k-character text takes milliseconds.

ADVERSARIAL = {
    "a.": "a." * 50_000,
    "ab.": "ab." * 33_334,
    "[.]": "[.]" * 33_334,
    "a[.]": "a[.]" * 25_000,
    "http://": "http://" * 14_286,
    "hxxp[:]//": "hxxp[:]//" * 11_112,
    "%": "%" * 100_000,
    "%25": "http://example.com/" + "%25" * 33_000,
    ".": "." * 100_000,
    "a": "a" * 100_000,
    "a dot ": "a dot " * 16_667,
    "a + dot com": "a" * 100_000 + " dot com",
    "a.com ": "a.com " * 16_667,
    "x.example.com/": "x.example.com/" * 7_143,
    "))": "http://example.com/" + ")" * 100_000,
    "((": "(" * 100_000 + "example.com",
    "@a.com": "@a.com" * 16_667,
    "zw.": "\u200ba." * 33_334,
    "fullwidth": "\uff41\uff0e" * 50_000,
    "cjk": "\u4f8b." * 50_000,
    "cjk+ascii": "\u4f8ba.com" * 14_286,
    "1.": "1." * 50_000,
    "mixed": ("a.b [.] c dot d hxxp://e.example/%25 (f.com) \u3002\u200b " * 2_000)[:100_000],
    ":/": ":/" * 50_000,
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_input_is_linear(name: str) -> None:
    text = ADVERSARIAL[name]
    started = time.perf_counter()
    extract_urls(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 30, f"{name}: {elapsed:.2f} s for {len(text)} characters"
