"""The policy step: strictest verdict wins, reasons, shadow and off rules, suppress banks,
the flood guard, and the built-in policy."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hashguard.engine import Match
from hashguard.policy import MemoryFloodGuard, Policy, Rule, Verdict, decide, default_policy
from hashguard.signals.registry import default_registry

PDQ_POLICY = Policy(
    (
        Rule("pdq-close", Verdict.BLOCK, signal_types=frozenset({"pdq"}), max_distance=10),
        Rule("pdq-near", Verdict.REVIEW, signal_types=frozenset({"pdq"}), min_distance=11,
             max_distance=31),
        Rule("csam", Verdict.REPORT, categories=frozenset({"csam"}), banks=frozenset({"iwf"})),
    )
)  # fmt: skip


def m(bank: str, signal_type: str = "pdq", distance: int = 0, **meta: str) -> Match:
    return Match(bank, f"{bank}-e{distance}", signal_type, distance, dict(meta))


def test_no_match_is_allowed_with_no_reasons() -> None:
    d = decide(PDQ_POLICY, [], version=7)
    assert (d.verdict, d.reasons, d.policy_version) == (Verdict.ALLOW, (), 7)


def test_distance_ranges_pick_the_verdict_and_the_strictest_wins() -> None:
    assert decide(PDQ_POLICY, [m("a", distance=10)]).verdict == Verdict.BLOCK
    assert decide(PDQ_POLICY, [m("a", distance=11)]).verdict == Verdict.REVIEW
    assert decide(PDQ_POLICY, [m("a", distance=32)]).verdict == Verdict.ALLOW
    d = decide(PDQ_POLICY, [m("a", distance=20), m("iwf", distance=5, category="csam")])
    assert d.verdict == Verdict.REPORT
    # every firing rule is a reason, strictest first
    assert [(r.rule, r.verdict, r.bank, r.distance) for r in d.reasons] == [
        ("csam", Verdict.REPORT, "iwf", 5),
        ("pdq-close", Verdict.BLOCK, "iwf", 5),
        ("pdq-near", Verdict.REVIEW, "a", 20),
    ]
    assert d.as_dict()["reasons"][0] == {
        "rule": "csam", "verdict": "report", "bank": "iwf", "entry": "iwf-e5",
        "signal_type": "pdq", "distance": 5,
    }  # fmt: skip
    assert "distance" not in d.as_dict(distance=False)["reasons"][0]


def test_bank_category_type_and_surface_must_all_fit() -> None:
    rule = Rule("r", Verdict.BLOCK, banks=frozenset({"b"}), categories=frozenset({"x"}),
                signal_types=frozenset({"md5"}), surfaces=frozenset({"public"}))  # fmt: skip
    p = Policy((rule,))
    hit = m("b", "md5", category="x")
    assert decide(p, [hit], surface="public").verdict == Verdict.BLOCK
    assert decide(p, [hit], surface="private").verdict == Verdict.ALLOW
    assert decide(p, [hit]).verdict == Verdict.ALLOW  # no surface given: a surface rule is out
    assert decide(p, [m("c", "md5", category="x")], surface="public").verdict == Verdict.ALLOW
    assert decide(p, [m("b", "md5", category="y")], surface="public").verdict == Verdict.ALLOW
    assert decide(p, [m("b", "md5")], surface="public").verdict == Verdict.ALLOW
    assert decide(p, [m("b", "sha1", category="x")], surface="public").verdict == Verdict.ALLOW


def test_shadow_rules_are_reported_apart_and_off_rules_not_at_all() -> None:
    p = Policy((
        Rule("live", Verdict.REVIEW),
        Rule("trial", Verdict.BLOCK, mode="shadow"),
        Rule("old", Verdict.REPORT, mode="off"),
    ))  # fmt: skip
    d = decide(p, [m("a")])
    assert d.verdict == Verdict.REVIEW
    assert [r.rule for r in d.reasons] == ["live"]
    assert d.shadow == Verdict.BLOCK and [r.rule for r in d.shadow_reasons] == ["trial"]
    assert d.as_dict()["shadow"]["reasons"][0]["mode"] == "shadow"
    only_live = decide(Policy((Rule("live", Verdict.REVIEW),)), [m("a")])
    assert only_live.shadow is None and "shadow" not in only_live.as_dict()


def test_a_suppress_bank_match_cancels_the_other_banks() -> None:
    p = Policy((Rule("any", Verdict.BLOCK),), suppress_banks=frozenset({"benign"}))
    d = decide(p, [m("a"), m("b", "md5"), m("benign", distance=3)])
    assert d.verdict == Verdict.ALLOW and d.reasons == ()
    assert [(s.bank, s.cancelled) for s in d.suppressed] == [("benign", 2)]
    assert d.as_dict()["suppressed"] == [{"bank": "benign", "entry": "benign-e3", "cancelled": 2}]
    assert decide(p, [m("a")]).verdict == Verdict.BLOCK  # without the benign match


def test_the_flood_guard_lowers_a_capped_rule_to_review_past_its_cap() -> None:
    now = [7200.0 * 100]
    guard = MemoryFloodGuard(clock=lambda: now[0])
    capped = Rule("capped", Verdict.BLOCK, cap_per_hour=3, cap_per_day=5)
    p = Policy((capped,))
    verdicts = [decide(p, [m("a"), m("a", "md5")], guard=guard).verdict for _ in range(4)]
    assert verdicts == [Verdict.BLOCK] * 3 + [Verdict.REVIEW]  # once per item, not per match
    d = decide(p, [m("a")], guard=guard)
    assert (
        d.capped == ("capped",) and d.reasons[0].capped and d.reasons[0].verdict == Verdict.REVIEW
    )
    now[0] += 3600  # the next hour: 2 left of the day's 5
    verdicts = [decide(p, [m("a")], guard=guard).verdict for _ in range(3)]
    assert verdicts == [Verdict.BLOCK, Verdict.BLOCK, Verdict.REVIEW]
    now[0] += 86400  # the next day
    assert decide(p, [m("a")], guard=guard).verdict == Verdict.BLOCK
    # shadow rules act on nothing, so they never use up a cap
    shadow = Policy((Rule("s", Verdict.BLOCK, mode="shadow", cap_per_hour=1),))
    for _ in range(3):
        assert decide(shadow, [m("a")], guard=guard).shadow == Verdict.BLOCK


def test_the_built_in_policy() -> None:
    p = default_policy(default_registry())
    assert decide(p, [m("a", "md5")]).verdict == Verdict.BLOCK
    assert decide(p, [m("a", "url")]).verdict == Verdict.BLOCK
    assert decide(p, [m("a", "pdq", 10)]).verdict == Verdict.BLOCK
    assert decide(p, [m("a", "pdq", 11)]).verdict == Verdict.REVIEW
    assert decide(p, [m("a", "pdq", 31)]).verdict == Verdict.REVIEW
    assert decide(p, [m("a", "keyword")]).verdict == Verdict.REVIEW
    assert {r.name for r in p.rules} >= {"exact", "pdq-close", "pdq-near", "keyword"}


RULES = st.lists(
    st.builds(
        Rule,
        name=st.sampled_from(["r1", "r2", "r3", "r4"]),
        verdict=st.sampled_from([Verdict.REVIEW, Verdict.BLOCK, Verdict.REPORT]),
        mode=st.sampled_from(["live", "shadow", "off"]),
        banks=st.none() | st.frozensets(st.sampled_from("abc"), min_size=1),
        min_distance=st.integers(0, 20),
        max_distance=st.none() | st.integers(0, 31),
    ),
    max_size=4,
    unique_by=lambda r: r.name,
)
MATCHES = st.lists(st.builds(m, st.sampled_from("abc"), st.just("pdq"), st.integers(0, 31)))


@given(RULES, MATCHES, MATCHES)
def test_the_verdict_is_the_strictest_firing_live_rule_and_more_matches_never_lower_it(
    rules: list[Rule], first: list[Match], more: list[Match]
) -> None:
    p = Policy(tuple(rules))
    d = decide(p, first)
    firing = [
        r.verdict for r in rules for x in first
        if r.mode == "live" and r.fits(x.bank, None, x.signal_type, x.distance, None)
    ]  # fmt: skip
    assert d.verdict == max(firing, default=Verdict.ALLOW)
    assert decide(p, first + more).verdict >= d.verdict
