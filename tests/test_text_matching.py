"""URL and keyword lists end to end: list rows in, message text matched by the engine, the
HTTP API and the CLI, live updates, and bad input. Benign made-up terms and example hosts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hashguard.cli import main
from hashguard.engine import MAX_TEXT_CHARS, Engine
from hashguard.errors import ListRejected, TooLarge
from hashguard.store.store import Store
from hashguard.text.urls import url_sha256
from tests.api.conftest import make_service
from tests.helpers import import_text

LIST = (
    "signal_type,signal,id,category\n"
    "url,example.com,dom-1,A\n"  # a domain rule: the host and its subdomains
    "url,http://EXAMPLE.org/bad/page.html,page-1,B\n"
    f"url_sha256,{url_sha256('example.net/private/')},hashed-1,A\n"
    "url,http://host.example.org/~a!b@c%23d$e%25f^00&11*22(33)44_55+,star-1,B\n"  # '*': itself
    "keyword,bluefalcon,kw-1,C\n"
    "keyword,substring:quartzmoon,kw-2,C\n"
    "keyword,squeezed:redlantern,kw-3,C\n"
)


@pytest.fixture
def engine(store: Store, tmp_path: Path) -> Engine:
    store.create_bank("hotline")
    import_text(store, "hotline", LIST)
    return Engine(store, index_dir=tmp_path / "idx")


def entries(engine: Engine, text: str) -> list[str]:
    return [m.entry for m in engine.match_text(text).matches]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("look at hxxp://sub.example[.]com/x?y=1 now", ["dom-1"]),
        ("example.com", ["dom-1"]),
        ("see http://exam\u061cple.com/x", ["dom-1"]),  # an Arabic letter mark inside
        ("see http://exam\U000e0041ple.com/x", ["dom-1"]),  # a tag character inside
        ("visit http://www.example.org/bad/page.html#top", ["page-1"]),  # host suffixes too
        ("visit http://example.org/bad/page.html?utm=1#top", ["page-1"]),
        ("visit http://example.org/bad/other.html", []),
        ("files at example.net/private/a/b.jpg", ["hashed-1"]),
        ("files at example.net/public/", []),
        ("at http://host.example.org/~a!b@c%23d$e%25f^00&11*22(33)44_55+ now", ["star-1"]),
        ("at http://host.example.org/~a!b@c%23d$e%25f^00&11X22(33)44_55+ now", []),
        ("the BLUEFALC0N is here", ["kw-1"]),
        ("bluefalcons are not a term", []),  # word mode: not inside another word
        ("xxquartzmoonxx", ["kw-2"]),
        ("r e d . l a n t e r n", ["kw-3"]),
        ("a B-L-U-E-F-A-L-C-O-N", ["kw-1"]),  # a word term spelled letter by letter
        ("q b l u e f a l c o n q", []),  # inside a longer run of single letters
        ("a harmless message about falcons and moons", []),
    ],
)
def test_urls_and_keywords_in_messages(engine: Engine, message: str, expected: list[str]) -> None:
    assert entries(engine, message) == expected


def test_a_match_says_where_and_what(engine: Engine) -> None:
    text = "new: hxxps://cdn.example[.]com/p and the b\u200blue falcon? no, bluefalcon!"
    result = engine.match_text(text)
    url, word = (m.as_dict() for m in result.matches)
    assert url["entry"] == "dom-1" and url["signal_type"] == "url" and url["category"] == "A"
    start, end = url["span"]
    assert text[start:end] == "hxxps://cdn.example[.]com/p"
    assert url["url"] == "https://cdn.example.com/p" and url["matched"] == "example.com/"
    assert word["entry"] == "kw-1" and text[word["span"][0] : word["span"][1]] == "bluefalcon"
    assert word["matched"] == "bluefalcon" and word["mode"] == "word"
    assert result.as_dict()["urls"] == [{"span": [start, end], "url": "https://cdn.example.com/p"}]


def test_live_add_and_retract(engine: Engine, store: Store) -> None:
    import_text(store, "hotline", "signal_type,signal,id\nkeyword,amberheron,kw-9\n")
    engine.refresh()
    assert entries(engine, "an Amber Heron? no: amberheron") == ["kw-9"]
    import_text(store, "hotline", "signal_type,signal,id,action\nkeyword,amberheron,kw-9,retract\n")
    assert entries(engine, "amberheron") == []  # checked in the store before reported
    engine.refresh()
    assert entries(engine, "amberheron") == []
    store.update_bank("hotline", enabled=False)
    engine.refresh()
    assert entries(engine, "example.com bluefalcon") == []


def test_snapshot_keeps_keywords_and_urls(engine: Engine, store: Store, tmp_path: Path) -> None:
    assert engine.indexes.loaded_from == "store"
    again = Engine(store, index_dir=tmp_path / "idx")
    assert again.indexes.loaded_from == "snapshot"
    assert sorted(entries(again, "bluefalcon at example.com")) == ["dom-1", "kw-1"]


def test_bad_rules_are_refused_by_line(store: Store) -> None:
    store.create_bank("b")
    bad = (
        "signal_type,signal,id\n"
        "url,example.com,ok\n"
        "url,http://exa mple.com/,u1\n"
        "keyword,ab,k1\n"
        "keyword,nomode:foo bar baz,k2\n"
        "keyword,sideways:quartz,k3\n"
        "url_sha256,abc,h1\n"
    )
    with pytest.raises(ListRejected) as rejected:
        import_text(store, "b", bad)
    lines = [e.line for e in rejected.value.errors]
    assert lines == [3, 4, 7], rejected.value.message  # "nomode:" and "sideways:" are terms
    assert list(store.export_rows("b")) == []


def test_long_and_hostile_messages(engine: Engine) -> None:
    with pytest.raises(TooLarge):
        engine.match_text("a" * (MAX_TEXT_CHARS + 1))
    hostile = ("[.]" * 5000) + ("hxxp://" * 2000) + ("a." * 10000) + " bluefalcon"
    assert entries(engine, hostile[:MAX_TEXT_CHARS]) == ["kw-1"]
    only_urls = " ".join(f"https://example.org/{i}" for i in range(200))
    assert entries(engine, only_urls) == []
    assert entries(engine, "😀🎉" * 100) == []


def test_http_text_route_and_batch(engine: Engine, store: Store, tmp_path: Path) -> None:
    for service in make_service(store, tmp_path):
        body = {"text": "see example[.]com", "chat_id": "g1"}
        answer = service.call("POST", "/v1/match/text", "match", json=body).json()
        assert [m["entry"] for m in answer["matches"]] == ["dom-1"]
        assert answer["context"] == {"chat_id": "g1"}
        too_long = {"text": "x" * (MAX_TEXT_CHARS + 1)}
        assert service.call("POST", "/v1/match/text", "match", json=too_long).status_code == 422
        items = [{"text": "bluefalcon"}, {"text": "nothing"}, {"text": "a", "content": "eA=="}]
        results = service.call("POST", "/v1/match/batch", "match", json={"items": items}).json()
        assert [m["entry"] for m in results["results"][0]["matches"]] == ["kw-1"]
        assert results["results"][1]["matches"] == []
        assert "one of" in results["results"][2]["error"]["message"]


def test_cli_match_text(
    engine: Engine, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messages = tmp_path / "messages.txt"
    messages.write_bytes(b"hello\nsee example[.]com\n\xff\xfe broken\nBLUEFALCON\n")
    code = main(["--db", store.url, "match-text", str(messages)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 3  # one line was not UTF-8; the others were matched
    assert [line.get("error", "")[:9] for line in lines] == ["", "", "not UTF-8", ""]
    assert [m["entry"] for m in lines[1]["matches"]] == ["dom-1"]
    assert [m["entry"] for m in lines[3]["matches"]] == ["kw-1"]
    assert main(["--db", store.url, "match-text", str(messages), "--fail-on-match"]) == 10
