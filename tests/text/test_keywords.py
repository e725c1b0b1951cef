"""Keyword matching through obfuscation. Every term here is a benign made-up word.

Look-alike characters are written as escapes so that what the test feeds in is visible:
\\u0430 is CYRILLIC SMALL LETTER A, \\uff42 FULLWIDTH LATIN SMALL LETTER B, and so on.
"""

from __future__ import annotations

import re
import time
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hashguard.errors import HashguardError, InvalidSignal
from hashguard.text import keywords as keywords_module
from hashguard.text import normalize as normalize_module
from hashguard.text.keywords import (
    KeywordHit,
    KeywordMatcher,
    KeywordMode,
    KeywordRule,
    parse_rule,
)
from hashguard.text.normalize import Normalized, View, normalize, normalize_char

WORD, SUBSTRING, SQUEEZED = KeywordMode.WORD, KeywordMode.SUBSTRING, KeywordMode.SQUEEZED
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"]


def matcher(*rules: tuple[str, str, KeywordMode]) -> KeywordMatcher[str]:
    return KeywordMatcher.build((key, KeywordRule(term, mode)) for key, term, mode in rules)


def found(m: KeywordMatcher[str], text: str) -> list[tuple[str, str]]:
    """(key, the original text the hit covers) for every hit."""
    return [(hit.key, text[hit.start : hit.end]) for hit in m.find(text)]


FALCON = matcher(("falcon", "bluefalcon", WORD))
SQUEEZED_FALCON = matcher(("falcon", "bluefalcon", SQUEEZED))


# --- each obfuscation on its own -----------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "written"),
    [
        ("plain", "bluefalcon"),
        ("case", "BlueFALCON"),
        ("accents", "bl\u00fc\u00e9f\u00e0lc\u00f3\u00f1"),  # precomposed letters
        ("combining marks", "b\u0301lu\u0308e\u0327fa\u0300\u0300lco\u0303n"),
        ("zalgo", "b" + "\u0336\u0337\u0338" * 5 + "luefalcon\u0489"),
        ("zero-width", "blue\u200bfal\u200dcon"),
        ("soft hyphen and word joiner", "blue\u00adfal\u2060con"),
        ("full-width", "\uff42\uff4c\uff55\uff45\uff46\uff41\uff4c\uff43\uff4f\uff4e"),
        (
            "math bold",
            "\U0001d41b\U0001d425\U0001d42e\U0001d41e\U0001d41f\U0001d41a\U0001d425"
            "\U0001d41c\U0001d428\U0001d427",
        ),
        ("Cyrillic look-alikes", "blu\u0435f\u0430l\u0441\u043en"),
        ("Cyrillic capitals", "BLU\u0415F\u0410L\u0421\u041eN"),
        ("Greek look-alikes", "bluef\u03b1lc\u03bfn"),
        ("Greek capitals", "\u0392LU\u0395F\u0391LC\u039fN"),
        ("leet digits", "b1u3f4lc0n"),
        ("leet symbols", "bluef@lc0n"),
        ("mixed", "\uff22\u200bL\u0301\u00fc3 f\u0430\u200cLc0\u0303n".replace(" ", "")),
    ],
)
def test_word_rule_sees_through(kind: str, written: str) -> None:
    text = f"did you see the {written} yesterday?"
    assert found(FALCON, text) == [("falcon", written)], kind


@pytest.mark.parametrize(
    ("kind", "written"),
    [
        ("spaced", "b l u e f a l c o n"),
        ("wide spaced", "b  l   u\te\nf a l c o n"),
        ("punctuated", "b.l.u.e-f_a_l_c_o_n"),
        ("two words", "blue falcon"),
        ("emoji separators", "b\U0001f525l\U0001f525u\U0001f525e falcon"),
        ("spaced leet", "b l u 3 f 4 l c 0 n"),
        ("spaced dollar", "$ilver f0x"),
        (
            "mixed",
            "\uff22 l\u200b \u00fc 3 . f @ l \u0441 0\u0303 n",
        ),
    ],
)
def test_squeezed_rule_sees_through_separators(kind: str, written: str) -> None:
    m = matcher(("falcon", "bluefalcon", SQUEEZED), ("fox", "silverfox", SQUEEZED))
    text = f"look: {written}!"
    hits = found(m, text)
    assert len(hits) == 1, (kind, hits)
    assert hits[0][1] == written


def test_squeezed_rule_also_matches_like_a_word_rule() -> None:
    assert found(SQUEEZED_FALCON, "@b1uefalcon.") == [("falcon", "b1uefalcon")]
    assert found(SQUEEZED_FALCON, "BLUEFALCON") == [("falcon", "BLUEFALCON")]


def test_word_rule_does_not_squeeze() -> None:
    for text in ("blue falcon", "bl ue fal con", "b l u e falcon", "blu e f a l c o n"):
        assert found(FALCON, text) == [], text


ZORBLAX = matcher(("z", "zorblax", WORD))


@pytest.mark.parametrize(
    "written",
    [
        "z o r b l a x",
        "z.o.r.b.l.a.x",
        "Z-O-R-B-L-A-X",
        "z_o_r_b_l_a_x",
        "z  o\tr\nb . l - a x",
        "z 0 r b 1 4 x",  # leetspeak, letter by letter
        "\U0001d433 o r b l a x",  # a math-bold z
        "z\U0001f525o\U0001f525r\U0001f525b\U0001f525l\U0001f525a\U0001f525x",
        "z\u200b o r b l a x",
    ],
)
def test_word_rule_matches_letter_by_letter(written: str) -> None:
    text = f"look: {written}!"
    assert found(ZORBLAX, text) == [("z", written)]
    [hit] = ZORBLAX.find(text)
    assert hit.matched == "zorbiax" and hit.mode is WORD  # the letters form ("l" reads "i")


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("buy a z o r b l a x now", "z o r b l a x"),  # a one-letter word before it
        ("z o r b l a x u want?", "z o r b l a x"),  # and after it
        ("(z.o.r.b.l.a.x)", "z.o.r.b.l.a.x"),
        ("z o r b l a x", "z o r b l a x"),
    ],
)
def test_letter_by_letter_begins_or_ends_its_run(text: str, written: str) -> None:
    assert found(ZORBLAX, text) == [("z", written)]


@pytest.mark.parametrize(
    "text",
    [
        "q z o r b l a x q",  # in the middle of a longer run of single letters
        "a b c z o r b l a x d e f",
        "zo r b l a x",  # every token one character
        "z o r b l a xy",
        "xz o r b l a x",
        "z o r b l a",
        "zorb l a x",
    ],
)
def test_letter_by_letter_not_inside_a_longer_run_nor_glued(text: str) -> None:
    assert found(ZORBLAX, text) == [], text


def test_letter_by_letter_for_substring_and_multi_word_rules() -> None:
    m = matcher(("s", "zorblax", SUBSTRING), ("w", "blue falcon", WORD))
    assert found(m, "z-o-r-b-l-a-x") == [("s", "z-o-r-b-l-a-x")]
    assert found(m, "a b l u e f a l c o n") == [("w", "b l u e f a l c o n")]
    # a rule with fewer than 3 letters and digits is not looked for letter by letter
    assert found(matcher(("ab", "a-b", WORD)), "x a b y a-b") == [("ab", "a-b")]


def test_squeezed_run_must_start_and_end_at_word_boundaries() -> None:
    for text in ["xb l u e f a l c o n", "the bluefalconry", "ab luefalcon", "blue falcons"]:
        assert found(SQUEEZED_FALCON, text) == [], text
    assert found(SQUEEZED_FALCON, "(b-l-u-e-f-a-l-c-o-n)") == [("falcon", "b-l-u-e-f-a-l-c-o-n")]


def test_squeezed_does_not_know_where_a_spelled_out_word_ends() -> None:
    """Boundaries are those of the letters view: a spelled-out plural still matches."""
    text = "b l u e f a l c o n s"
    assert found(SQUEEZED_FALCON, text) == [("falcon", "b l u e f a l c o n")]


# --- word boundaries ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["bluefalcons", "xbluefalcon", "thebluefalcon", "bluefalcon2", "4b1uefalcon", "x$ilverfox"],
)
def test_word_rule_does_not_fire_inside_a_longer_word(text: str) -> None:
    m = matcher(("falcon", "bluefalcon", WORD), ("fox", "silverfox", WORD))
    assert found(m, text) == []


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("bluefalcon", "bluefalcon"),
        ("(bluefalcon)", "bluefalcon"),
        ("#bluefalcon", "bluefalcon"),
        ("@bluefalcon", "bluefalcon"),
        ("bluefalcon!", "bluefalcon"),
        ("a bluefalcon.", "bluefalcon"),
        ("my_bluefalcon_pics", "bluefalcon"),
        ("@b1uefalcon", "b1uefalcon"),
        ("$b1uefalc0n$", "b1uefalc0n"),
    ],
)
def test_word_rule_fires_next_to_punctuation(text: str, written: str) -> None:
    assert found(FALCON, text) == [("falcon", written)]


def test_substring_rule_fires_inside_words() -> None:
    m = matcher(("moon", "quartzmoon", SUBSTRING))
    assert found(m, "the quartzmoonrise is xquartzmoon") == [
        ("moon", "quartzmoon"),
        ("moon", "quartzmoon"),
    ]
    assert found(m, "Qu4rtzM00Nrise") == [("moon", "Qu4rtzM00N")]


def test_word_rule_in_a_script_without_spaces() -> None:
    m = matcher(("cjk", "\u9752\u9e70\u5c71", WORD))  # a made-up three-character name
    text = "\u6211\u4eec\u53bb\u9752\u9e70\u5c71\u5427"
    assert found(m, text) == [("cjk", "\u9752\u9e70\u5c71")]


def test_multi_word_term() -> None:
    m = matcher(("pair", "velvet quasar", WORD))
    assert found(m, "a VELVET\u00a0Qu\u0430sar here") == [("pair", "VELVET\u00a0Qu\u0430sar")]
    assert found(m, "velvet quasars") == []


# --- spans, keys, hits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi BLUEFALCON bye", "BLUEFALCON"),
        ("hi \u200bblue\u200bfalcon\u200b bye", "blue\u200bfalcon"),
        ("hi bluefalco\u0301n\u0301\u0302 bye", "bluefalco\u0301n\u0301\u0302"),
        ("\uff48\uff49 \uff42\uff4c\uff55\uff45\uff46\uff41\uff4c\uff43\uff4f\uff4e", None),
        ("x\U0001f600 bluefalcon \U0001f600", "bluefalcon"),
        ("\ufb01 \u00df bluefalcon", "bluefalcon"),  # expansions before the match
    ],
)
def test_spans_map_back_to_the_original(text: str, expected: str | None) -> None:
    hits = FALCON.find(text)
    assert len(hits) == 1
    hit = hits[0]
    if expected is None:
        expected = text[3:]
    assert text[hit.start : hit.end] == expected
    assert hit.matched == "bluefalcon"
    assert hit.mode is WORD


def test_span_of_an_expanded_character() -> None:
    m = matcher(("street", "strassenfalke", WORD))
    text = "die Stra\u00dfenfalke!"
    assert found(m, text) == [("street", "Stra\u00dfenfalke")]
    m = matcher(("fi", "fiorexa", WORD))
    assert found(m, "\ufb01orexa") == [("fi", "\ufb01orexa")]


def test_squeezed_span_covers_the_separators() -> None:
    text = "ok b . l . u . e f a l c o n ok"
    [hit] = SQUEEZED_FALCON.find(text)
    assert text[hit.start : hit.end] == "b . l . u . e f a l c o n"
    assert hit.matched == "biuefaicon"  # the letters view folds l into i
    assert hit.mode is SQUEEZED


def test_entries_sharing_a_term_are_all_reported() -> None:
    m = matcher(
        ("a", "bluefalcon", WORD), ("b", "BlueFalcon", WORD), ("c", "bluefalcon", SUBSTRING)
    )
    hits = m.find("see bluefalcon")
    assert sorted(h.key for h in hits) == ["a", "b", "c"]
    assert {(h.start, h.end) for h in hits} == {(4, 14)}


def test_one_hit_per_rule_and_span_across_views() -> None:
    hits = FALCON.find("bluefalcon")  # found in the normal and the letters view
    assert hits == [KeywordHit("falcon", 0, 10, "bluefalcon", WORD)]


def test_hits_in_order_and_limited() -> None:
    m = matcher(("moon", "quartzmoon", WORD), ("falcon", "bluefalcon", WORD))
    text = "quartzmoon bluefalcon quartzmoon"
    assert [(h.key, h.start) for h in m.find(text)] == [("moon", 0), ("falcon", 11), ("moon", 22)]
    assert len(m.find(text, limit=2)) == 2
    assert len(m.find(text, limit=None)) == 3


def test_keys_can_be_any_hashable() -> None:
    m = KeywordMatcher.build([((7, "iwf"), parse_rule("bluefalcon", None))])
    assert [h.key for h in m.find("bluefalcon")] == [(7, "iwf")]


def test_empty_matcher_and_empty_text() -> None:
    assert KeywordMatcher.build([]).find("bluefalcon") == []
    assert len(KeywordMatcher.build([])) == 0
    assert FALCON.find("") == []


# --- no false positives ------------------------------------------------------------------

BENIGN_TERMS = [
    "bluefalcon",
    "quartzmoon",
    "velvetquasar",
    "zorbanique",
    "plimtrax",
    "snorvelik",
    "gravomint",
    "trelloquin",
    "mupsadrel",
    "kwistafen",
]

BENIGN_MESSAGES = [
    "Hey! Are you coming to the party tonight? Bring snacks \U0001f355\U0001f389",
    "The falcon flew over the blue lake; quartz and moon rocks on the shelf.",
    "Meeting moved to 10:30, room 4B. See https://example.com/agenda?id=42&x=1",
    "lol 1337 h4x0r jokes aside, the build is green \u2705",
    "Ich habe heute keine Zeit, vielleicht morgen. Sch\u00f6ne Gr\u00fc\u00dfe aus M\u00fcnchen!",
    "Stra\u00dfenbahn f\u00e4hrt um 7 Uhr ab, bitte p\u00fcnktlich sein.",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430? "
    "\u0423\u0432\u0438\u0434\u0438\u043c\u0441\u044f \u0437\u0430\u0432\u0442\u0440\u0430.",
    "\u0645\u0631\u062d\u0628\u0627\u060c \u0643\u064a\u0641 \u062d\u0627\u0644\u0643\u061f "
    "\u0623\u0631\u0627\u0643 \u063a\u062f\u0627 \u0661\u0662\u0663",
    "\u4f60\u597d\uff0c\u660e\u5929\u89c1\uff01\u6211\u4eec\u53bb\u516c\u56ed\u5427\u3002",
    "\u3053\u3093\u306b\u3061\u306f\u3001\u5143\u6c17\u3067\u3059\u304b\uff1f",
    "\U0001f600\U0001f601\U0001f602\U0001f923\U0001f46a\U0001f3fd \u2764\ufe0f",
    "$5 for coffee @ the corner shop, 3 blocks away",
    "b l u e   skies and f a l c o n s",  # separate words, but not spelled as one term
    "ZORBA is nice; plim and trax, kwista and fen",
]


def test_no_false_positives_on_benign_messages() -> None:
    m = KeywordMatcher.build(
        (f"{term}/{mode}", KeywordRule(term, mode)) for term in BENIGN_TERMS for mode in KeywordMode
    )
    for message in BENIGN_MESSAGES:
        assert m.find(message) == [], message


@pytest.mark.parametrize(
    "text", ["\U0001f600" * 50, "!?.,;:-_()[]{}" * 20, "   \n\t  ", "\u200b" * 30]
)
def test_only_emoji_or_punctuation(text: str) -> None:
    m = KeywordMatcher.build([("x", KeywordRule("\U0001f525\U0001f525\U0001f525", SUBSTRING))])
    assert m.find(text) == []
    assert FALCON.find(text) == []
    assert SQUEEZED_FALCON.find(text) == []


def test_emoji_term_as_substring() -> None:
    m = KeywordMatcher.build([("x", KeywordRule("\U0001f525\U0001f525\U0001f525", SUBSTRING))])
    assert found(m, "ok \U0001f525\U0001f525\U0001f525\U0001f525") != []


# --- invalid rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "mode", "message"),
    [
        ("", None, "keyword is empty"),
        ("   \t", None, "keyword is empty"),
        ("ab", None, "normalises to 'ab', 2 characters; at least 3"),
        ("a\u200bb\u0301", None, "normalises to 'ab'"),
        ("\u200b\u200b\u200b", None, "normalises to ''"),
        ("a.b", "squeezed", "2 letters and digits"),
        ("x" * 201, None, "201 characters long; the limit is 200"),
        (
            "bluefalcon",
            "fuzzy",
            "unknown keyword mode 'fuzzy'; use one of: word, substring, squeezed",
        ),
    ],
)
def test_invalid_rules_rejected(value: str, mode: str | None, message: str) -> None:
    with pytest.raises(InvalidSignal) as info:
        parse_rule(value, mode)
    assert message in str(info.value)
    assert isinstance(info.value, HashguardError)
    assert info.value.http_status == 422


def test_parse_rule_modes() -> None:
    assert parse_rule("bluefalcon", None).mode is WORD
    assert parse_rule("bluefalcon", "").mode is WORD
    assert parse_rule("bluefalcon", " Substring ").mode is SUBSTRING
    assert parse_rule("  bluefalcon ", "squeezed") == KeywordRule("bluefalcon", SQUEEZED)
    assert parse_rule("x" * 200, None).term == "x" * 200
    rule = parse_rule("B1ue Falcon", None)
    assert (rule.normal, rule.letters, rule.squeezed) == (
        "b1ue falcon",
        "biue faicon",
        "biuefaicon",
    )


# --- long messages -----------------------------------------------------------------------

# A guard against quadratic paths (hours at this size), not a speed goal: speed is measured
# in bench/bench_keywords.py. CI machines are shared, so the bound is wide.
HANG = 60


def test_one_megabyte_message_in_bounded_time() -> None:
    m = KeywordMatcher.build(
        (term, KeywordRule(term, mode)) for term in BENIGN_TERMS for mode in KeywordMode
    )
    filler = "the quick brown fox jumps over the lazy dog \u043f\u0440\u0438\u0432\u0435\u0442 "
    text = filler * (1_000_000 // len(filler)) + "b.l.u.e f4lc0n"
    started = time.perf_counter()
    hits = m.find(text)
    assert time.perf_counter() - started < HANG
    assert [text[h.start : h.end] for h in hits] == ["b.l.u.e f4lc0n"]


def test_one_megabyte_of_matches_is_cut_at_the_limit() -> None:
    text = "bluefalcon " * 100_000
    started = time.perf_counter()
    hits = FALCON.find(text, limit=50)
    assert time.perf_counter() - started < HANG
    assert len(hits) == 50
    assert all(text[h.start : h.end] == "bluefalcon" for h in hits)


def test_one_megabyte_of_invisible_characters() -> None:
    text = "blue" + "\u200b" * 1_000_000 + "falcon"
    started = time.perf_counter()
    [hit] = FALCON.find(text)
    assert time.perf_counter() - started < HANG
    assert (hit.start, hit.end) == (0, len(text))


# --- normalisation -----------------------------------------------------------------------


def test_views() -> None:
    n = normalize("\uff28\u0435llo W\u00f6rld_42 b.a.d")
    assert n.normal == "hello world_42 b.a.d"
    assert n.letters == "heiio worid_a2 b.a.d"
    assert n.squeezed == "heiioworida2bad"
    assert n.view(View.SQUEEZED) == n.squeezed


def test_origins_of_every_character() -> None:
    text = "A\u200b\u00dfe\u0301 \ufb01"
    n = normalize(text)
    assert n.normal == "asse fi"
    assert n.origins(View.NORMAL) == [(0, 1), (2, 3), (2, 3), (3, 4), (5, 6), (6, 7), (6, 7)]
    assert n.origins(View.SQUEEZED) == [(0, 1), (2, 3), (2, 3), (3, 4), (6, 7), (6, 7)]
    assert n.span(View.NORMAL, 1, 4) == (2, 5)  # "sse" with the accent of the e
    with pytest.raises(ValueError):
        n.span(View.NORMAL, 2, 2)


def test_table_agrees_with_the_pipeline_for_every_character() -> None:
    """The translation table built at import, character by character, for the BMP and SMP."""
    for code in range(0x20000):
        char = chr(code)
        if unicodedata.category(char) in ("Cn", "Co", "Cs"):
            continue
        assert normalize(char).normal == normalize_char(char), hex(code)


def test_other_scripts_digits_are_digits() -> None:
    assert normalize("\u0661\u0662\u0663 \u0967\u0968").normal == "123 12"


def test_benign_scripts_survive() -> None:
    for text in ["\u4f60\u597d", "\u3053\u3093\u306b\u3061\u306f", "\ud55c\uad6d\uc5b4"]:
        assert normalize(text).normal == text


# --- properties --------------------------------------------------------------------------

FILLER = st.text(
    alphabet=st.sampled_from(list("abcdefghijk mnopqrstuvwxyz .,!?\u00e9\u00df\u0436\u4f60")),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    before=FILLER,
    after=FILLER,
    term=st.sampled_from(BENIGN_TERMS),
    mode=st.sampled_from(list(KeywordMode)),
    inserts=st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(ZERO_WIDTH)), max_size=10),
    flips=st.lists(st.integers(min_value=0), max_size=10),
)
def test_zero_width_and_case_never_lose_a_match(
    before: str,
    after: str,
    term: str,
    mode: KeywordMode,
    inserts: list[tuple[int, str]],
    flips: list[int],
) -> None:
    m = KeywordMatcher.build([("k", KeywordRule(term, mode))])
    text = f"{before} {term} {after}"
    assert m.find(text, limit=None), text
    chars = list(text)
    for position in flips:
        i = position % len(chars)
        chars[i] = chars[i].swapcase() if chars[i].islower() else chars[i].lower()
    for position, invisible in inserts:
        chars.insert(position % (len(chars) + 1), invisible)
    changed = "".join(chars)
    hits = m.find(changed, limit=None)
    assert hits, changed
    for hit in hits:
        assert KeywordRule(term, mode).squeezed in normalize(changed[hit.start : hit.end]).squeezed


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40))
def test_the_ascii_shortcut_is_the_table(text: str) -> None:
    assert normalize(text).normal == text.translate(normalize_module._TRANSLATE)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_translation_table_equals_whole_string_pipeline(text: str) -> None:
    """The per-character table gives what the whole-string pipeline gives.

    Up to canonical composition: the table leaves Hangul jamo, for one, uncomposed.
    """
    table = unicodedata.normalize("NFC", normalize(text).normal)
    assert table == unicodedata.normalize("NFC", normalize_char(text))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_offsets_are_monotone_and_in_range(text: str) -> None:
    n = normalize(text)
    for view in View:
        origins = n.origins(view)
        assert len(origins) == len(n.view(view))
        starts = [start for start, _ in origins]
        assert starts == sorted(starts)
        assert all(0 <= start < len(text) for start in starts)
        for (start, _), char in zip(origins, n.view(view), strict=True):
            source = normalize(text[start])
            assert char in source.view(View.LETTERS if view is View.SQUEEZED else view)


def test_a_rule_written_in_digits_matches_the_word_in_letters() -> None:
    """A message without look-alike digits is scanned for such rules' letter forms alone."""
    m = KeywordMatcher.build([("k", KeywordRule("gr33n", WORD)), ("j", KeywordRule("blue", WORD))])
    for text in ("a green one", "a gr33n one", "a GR3EN one and blue"):
        assert [h.key for h in m.find(text)][:1] == ["k"], text
    assert [h.key for h in m.find("a greenish blue")] == ["j"]
    # a message in digits still finds rules without any ("red" reads the same in all views)
    red = KeywordMatcher.build([("r", KeywordRule("red", WORD))])
    assert [h.key for h in red.find("a r3d one")] == ["r"]


# --- the fast paths against their definitions ---------------------------------------------


def _occurrences(text: str, form: str) -> list[int]:
    found, start = [], text.find(form)
    while start >= 0:
        found.append(start)
        start = text.find(form, start + 1)
    return found


def _reference_find(
    rules: list[tuple[str, KeywordRule]], text: str
) -> set[tuple[str, int, int, str]]:
    """What ``find`` must return, by looking for every rule's form in every view with
    ``str.find``: a word or squeezed rule where the views' word boundaries allow it, one hit
    per rule and span of the original text, the normal view's form preferred."""
    message = normalize(text)
    hits: dict[tuple[int, int, int], tuple[str, int, int, str]] = {}
    for i, (key, rule) in enumerate(rules):
        views = [(View.NORMAL, rule.normal), (View.LETTERS, rule.letters)]
        for view, form in views:
            for start in _occurrences(message.view(view), form):
                end = start + len(form)
                if rule.mode is SUBSTRING or keywords_module._bounded(message, view, start, end):
                    first, last = message.span(view, start, end)
                    hits.setdefault((i, first, last), (key, first, last, form))
        if rule.mode is SQUEEZED:
            for start in _occurrences(message.squeezed, rule.squeezed):
                end = start + len(rule.squeezed)
                first = message.letters_index(start)
                last = message.letters_index(end - 1) + 1
                if keywords_module._bounded(message, View.LETTERS, first, last):
                    first, last = message.span(View.SQUEEZED, start, end)
                    hits.setdefault((i, first, last), (key, first, last, rule.squeezed))
        elif len(rule.squeezed) >= 3:
            for start in _occurrences(message.squeezed, rule.squeezed):
                if _spelled_by_definition(message.letters, message, start, len(rule.squeezed)):
                    first, last = message.span(View.SQUEEZED, start, start + len(rule.squeezed))
                    hits.setdefault((i, first, last), (key, first, last, rule.squeezed))
    return set(hits.values())


def _spelled_by_definition(letters: str, message: Normalized, start: int, length: int) -> bool:
    """The letters view cut into tokens of letters and digits: the term's characters are
    consecutive one-character tokens, and the first of them or the last is at an end of
    the run of one-character tokens it is in."""
    tokens = list(re.finditer(r"[^\W_]+", letters))
    k = next((n for n, t in enumerate(tokens) if t.start() == message.letters_index(start)), None)
    if k is None:
        return False  # inside a token
    mine = tokens[k : k + length]
    if len(mine) < length or any(len(t.group()) != 1 for t in mine):
        return False
    before = k == 0 or len(tokens[k - 1].group()) != 1
    after = k + length == len(tokens) or len(tokens[k + length].group()) != 1
    return before or after


LEETY = "abeilost 01345$@7.-_\u200b\u0430\u0435\uff41\u00e9I"


@settings(max_examples=500, deadline=None)
@given(
    terms=st.lists(
        st.tuples(
            st.text(alphabet="abeilost01345$@7 ", min_size=3, max_size=6),
            st.sampled_from(list(KeywordMode)),
        ),
        min_size=1,
        max_size=6,
    ),
    text=st.text(alphabet=LEETY, max_size=40),
)
# "$" reads as a letter only in the letters view: glued to a word there, not in the normal one
@example(terms=[("$ale", KeywordMode.WORD)], text="b$ale")
def test_find_is_every_view_searched_one_by_one(
    terms: list[tuple[str, KeywordMode]], text: str
) -> None:
    """One scan of the letters view (and one of the squeezed view) finds what looking for
    each rule's forms in each view finds."""
    _check_find(terms, text)


def _check_find(terms: list[tuple[str, KeywordMode]], text: str) -> None:
    rules = []
    for n, (term, mode) in enumerate(terms):
        try:
            rules.append((f"r{n}", KeywordRule(term, mode)))
        except InvalidSignal:
            continue  # too short once normalised
    m = KeywordMatcher.build(rules)
    got = {(h.key, h.start, h.end, h.matched) for h in m.find(text, limit=None)}
    assert got == _reference_find(rules, text)


# Tokens of mostly one character between separators, from few letters: letter-by-letter
# spellings of the terms, inside longer runs, at their ends and glued to other letters.
SPELLINGS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "e", "4", "@", "3", "ab", "ba"]),
        st.sampled_from([" ", ".", "-", " . ", "\u200b ", ""]),
    ),
    max_size=12,
).map(lambda pieces: "".join(token + sep for token, sep in pieces))


@settings(max_examples=500, deadline=None)
@given(
    terms=st.lists(
        st.tuples(
            st.text(alphabet="abe", min_size=3, max_size=4), st.sampled_from(list(KeywordMode))
        ),
        min_size=1,
        max_size=4,
    ),
    text=SPELLINGS,
)
@example(terms=[("abe", KeywordMode.WORD)], text="a b e b ")  # at the start of its run only
@example(terms=[("abe", KeywordMode.WORD)], text="a b ea ")  # its last letter glued
@example(terms=[("abe", KeywordMode.WORD)], text="b a b e b ")  # inside a longer run
def test_find_is_every_view_searched_one_by_one_in_spellings(
    terms: list[tuple[str, KeywordMode]], text: str
) -> None:
    _check_find(terms, text)


@settings(max_examples=500, deadline=None)
@given(st.text())
@example("a\ud800b_c \udfff d\U0001f600e")  # lone surrogates, as JSON "\ud800" gives them
def test_squeezed_view_drops_every_non_word_character(text: str) -> None:
    letters = normalize(text).letters
    assert normalize(text).squeezed == re.sub(r"[\W_]", "", letters)


@settings(max_examples=500, deadline=None)
@given(st.text() | st.text(alphabet=st.characters(max_codepoint=0x7F)))
@example("B1ue \ud800FALC0N")
def test_letters_view_is_the_normal_view_with_leetspeak_undone(text: str) -> None:
    """Made in one pass from the original text, it must be what its definition says."""
    normal = normalize(text).normal
    expected = "".join(normalize_module.LEET.get(c, c) for c in normal)
    assert normalize(text).letters == expected


def test_views_are_the_same_through_the_list_tables_and_the_dicts() -> None:
    """The letters and normal views are made with lists indexed by code point where they can
    be; they must agree with the tables for every character, those beyond the lists too."""
    nz = normalize_module
    for start in range(0x80, 0x110000, 0x1000):
        chunk = "".join(map(chr, range(start, min(start + 0x1000, 0x110000))))
        message = normalize(chunk)
        assert message.letters == chunk.translate(nz._LETTERS_TRANSLATE), hex(start)
        assert message.normal == chunk.translate(nz._TRANSLATE), hex(start)
        for char in chunk:
            if char.translate(nz._LETTERS_LIST) != char.translate(
                nz._LETTERS_TRANSLATE
            ) or char.translate(nz._NORMAL_LIST) != char.translate(nz._TRANSLATE):
                assert nz._BEYOND_LISTS.match(char), hex(ord(char))
    # beyond the lists: a tag character is dropped, a CJK compatibility ideograph mapped,
    # an ideograph that is not in the tables kept
    tagged = normalize("B1ue\U000e0041falc0n \U0002f800 \U00020000")
    assert tagged.letters == "biuefaicon \u4e3d \U00020000"  # "l" reads as "i"
    assert tagged.normal == "b1uefalc0n \u4e3d \U00020000"


def test_lone_surrogates_neither_break_nor_hide_a_match() -> None:
    text = "x \ud800 b l u e \udfff f a l c o n y"
    assert found(SQUEEZED_FALCON, text) == [("falcon", "b l u e \udfff f a l c o n")]
    assert found(FALCON, "\ud800bluefalcon\udfff") == [("falcon", "bluefalcon")]
