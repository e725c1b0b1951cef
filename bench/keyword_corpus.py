"""Keyword benchmark: the benign phrases, the made-up terms listed, and the messages they are
planted in."""

from __future__ import annotations

import random
from dataclasses import dataclass

from keyword_forms import (
    KINDS,
    SQUEEZED_KINDS,
)

from hashguard.text.keywords import KeywordMode, KeywordRule

# --- corpus ------------------------------------------------------------------------------

PHRASES = {
    "en": [
        "hey are you coming tonight",
        "bring some snacks for the party",
        "the meeting moved to thursday afternoon",
        "did you see the game last night",
        "my train is running late again",
        "can you send me the photos from the trip",
        "happy birthday have a great day",
        "lol that was hilarious",
        "see you at the station in ten minutes",
        "the weather is lovely today",
    ],
    "de": [
        "ich habe heute keine zeit",
        "vielleicht morgen nach der arbeit",
        "sch\u00f6ne gr\u00fc\u00dfe aus m\u00fcnchen",
        "die stra\u00dfenbahn f\u00e4hrt um sieben",
        "wir treffen uns am bahnhof",
    ],
    "fr": [
        "on se voit demain soir",
        "j'ai oubli\u00e9 mon t\u00e9l\u00e9phone \u00e0 la maison",
        "\u00e7a marche, \u00e0 plus tard",
        "le caf\u00e9 est ferm\u00e9 aujourd'hui",
    ],
    "es": [
        "nos vemos ma\u00f1ana en la playa",
        "\u00bfqu\u00e9 tal el examen?",
        "la reuni\u00f3n es a las cinco",
    ],
    "ru": [
        "\u043f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430",
        "\u0443\u0432\u0438\u0434\u0438\u043c\u0441\u044f \u0437\u0430\u0432\u0442\u0440\u0430 "
        "\u0443 \u043c\u0435\u0442\u0440\u043e",
        "\u043d\u0435 \u0437\u0430\u0431\u0443\u0434\u044c \u043a\u0443\u043f\u0438\u0442\u044c "
        "\u0445\u043b\u0435\u0431",
        "\u0441\u043f\u0430\u0441\u0438\u0431\u043e \u0437\u0430 "
        "\u043f\u043e\u043c\u043e\u0449\u044c",
    ],
    "ar": [
        "\u0645\u0631\u062d\u0628\u0627 \u0643\u064a\u0641 \u062d\u0627\u0644\u0643",
        "\u0623\u0631\u0627\u0643 \u063a\u062f\u0627 \u0625\u0646 \u0634\u0627\u0621 "
        "\u0627\u0644\u0644\u0647",
        "\u0634\u0643\u0631\u0627 \u062c\u0632\u064a\u0644\u0627",
    ],
    "zh": [
        "\u4f60\u597d\uff0c\u660e\u5929\u89c1",
        "\u6211\u4eec\u53bb\u516c\u56ed\u5427",
        "\u4eca\u5929\u5929\u6c14\u5f88\u597d",
    ],
    "ja": [
        "\u3053\u3093\u306b\u3061\u306f\u3001\u5143\u6c17\u3067\u3059\u304b",
        "\u307e\u305f\u660e\u65e5\u306d",
    ],
    "hi": [
        "\u0928\u092e\u0938\u094d\u0924\u0947, \u0906\u092a \u0915\u0948\u0938\u0947 "
        "\u0939\u0948\u0902",
        "\u0915\u0932 \u092e\u093f\u0932\u0924\u0947 \u0939\u0948\u0902",
    ],
}
EMOJI = [
    "\U0001f600",
    "\U0001f602",
    "\u2764\ufe0f",
    "\U0001f44d\U0001f3fd",
    "\U0001f389",
    "\U0001f525",
]
EXTRAS = [
    "https://example.com/watch?v=42&t=7s",
    "www.example.org/news/2024/story.html",
    "@sam_99",
    "#weekend",
    "$5.99",
    "10:30",
    "+44 20 7946 0000",
    "3x",
    "l33t h4x0r jk",
    "!!!",
    "...",
    "\U0001f1e9\U0001f1ea",
]

# --- rules -------------------------------------------------------------------------------

ONSETS = ["b", "d", "f", "g", "k", "m", "n", "p", "r", "s", "t", "v", "z", "br", "kr", "pl", "st"]
VOWELS = ["a", "e", "i", "o", "u", "ao", "ei"]
CODAS = ["", "", "", "n", "r", "x", "s", "l"]
MODES = [KeywordMode.WORD] * 3 + [KeywordMode.SUBSTRING, KeywordMode.SQUEEZED]


def made_up_word(rng: random.Random) -> str:
    syllables = rng.randint(3, 5)
    return "".join(
        rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables)
    )


def make_rules(n: int, rng: random.Random, vocabulary: str) -> list[tuple[int, KeywordRule]]:
    seen: set[str] = set()
    rules: list[tuple[int, KeywordRule]] = []
    while len(rules) < n:
        term = made_up_word(rng)
        rule = KeywordRule(term, rng.choice(MODES))
        if rule.letters in seen or rule.letters in vocabulary or rule.squeezed in vocabulary:
            continue
        seen.add(rule.letters)
        rules.append((len(rules), rule))
    return rules


@dataclass(frozen=True)
class Message:
    text: str
    key: int | None = None  # the planted rule
    kind: str | None = None
    planted: str | None = None  # the planted text, as written


def make_message(rng: random.Random) -> list[str]:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < 90:
        pick = rng.random()
        if pick < 0.7:
            language = rng.choice(list(PHRASES))
            words.extend(rng.choice(PHRASES[language]).split(" "))
        elif pick < 0.85:
            words.append(rng.choice(EMOJI))
        else:
            words.append(rng.choice(EXTRAS))
    return words


def make_corpus(
    n: int, planted: float, rules: list[tuple[int, KeywordRule]], rng: random.Random
) -> list[Message]:
    corpus: list[Message] = []
    for _ in range(n):
        words = make_message(rng)
        if rng.random() >= planted:
            corpus.append(Message(" ".join(words)))
            continue
        key, rule = rng.choice(rules)
        kinds = dict(KINDS)
        if rule.mode is KeywordMode.SQUEEZED:
            kinds.update(SQUEEZED_KINDS)
        kind = rng.choice(list(kinds))
        written = kinds[kind](rule.term, rng)
        at = rng.randint(0, len(words))
        text = " ".join([*words[:at], written, *words[at:]])
        corpus.append(Message(text, key, kind, written))
    return corpus
