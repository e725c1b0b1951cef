"""Bad input and abuse, each refused with a clear page and nothing changed: forged forms,
pages above one's role, decisions on decided or others' items, purged previews, brute
force, session fixation, injected markup, reveals past the exposure limits."""

from __future__ import annotations

import dataclasses
import re
import threading
import time

import pytest

from hashguard.access.accounts import MAX_FAILURES
from tests.console.conftest import PASSWORD, Console, csrf, post_form


def _held(c: Console, content_id: str = "c1") -> int:
    assert c.upload("sharpen-a-little.jpg", content_id, "chat-1")["verdict"] == "review"
    return next(i.id for i in c.store.reviews.queue() if i.content_key == f"id:{content_id}")


def test_forms_without_the_sessions_token_are_refused(console: Console) -> None:
    c = console
    item = _held(c)
    rita = c.login("rita")
    post_form(rita, "/console/queue", "/console/next")  # rita claims it
    posts = [
        ("/console/next", {}),
        (f"/console/items/{item}/decide", {"action": "confirm"}),
        (f"/console/items/{item}/reveal", {}),
        (f"/console/items/{item}/claim", {}),
        ("/console/settings", {"greyscale": "on"}),
        ("/console/logout", {}),
    ]
    other = c.login("remy")  # a real token, of another session
    stolen = csrf(other.get("/console/queue"))
    for url, fields in posts:
        for token in (None, "", "forged", stolen):
            data = dict(fields) if token is None else {**fields, "csrf": token}
            r = rita.post(url, data=data)
            assert r.status_code == 403, (url, token, r.status_code)
            assert "not sent from a page of this console" in r.text
    assert c.store.reviews.get(item).status == "open"
    assert not c.store.reviews.revealed(c.store.users.get("rita").id, item, 0)
    assert rita.get("/console/queue").status_code == 200  # still logged in
    # A lead's and an admin's forms likewise.
    ada = c.login("ada")
    r = ada.post(
        "/console/users",
        data={"name": "mallory", "role": "admin", "password": "x" * 20, "csrf": "forged"},
    )
    assert r.status_code == 403
    assert [u.name for u in c.store.users.list() if u.name == "mallory"] == []


def test_cross_site_posts_are_refused_before_any_route(console: Console) -> None:
    c = console
    rita = c.login("rita")
    token = csrf(rita.get("/console/queue"))
    r = rita.post(
        "/console/next",
        data={"csrf": token},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert r.status_code == 403 and "another origin" in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/console/decided",
        "/console/appeals",
        "/console/exposure",
        "/console/audit",
        "/console/users",
        "/console/queue?status=escalated",
    ],
)
def test_a_reviewer_is_refused_lead_and_admin_pages(console: Console, path: str) -> None:
    rita = console.login("rita")
    r = rita.get(path)
    assert r.status_code == 403
    assert "role" in r.text and "Traceback" not in r.text
    if path in ("/console/users", "/console/admin"):
        lena = console.login("lena")  # a lead is no admin
        assert lena.get(path).status_code == 403


def test_pages_need_a_login(console: Console) -> None:
    anonymous = console.browser()
    for path in ("/console/queue", "/console/items/1", "/console/users"):
        r = anonymous.get(path)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/console/login?next=/console/")
    r = anonymous.post("/console/next", data={"csrf": "x"})
    assert r.status_code == 303
    assert r.headers["location"] == "/console/login?next=/console/queue"  # a page, not a POST
    # The login page sends one back only into the console (no open redirect).
    page = anonymous.get("/console/login?next=https://evil.example/")
    assert 'name="next" value="/console/queue"' in page.text


def test_decisions_on_decided_or_claimed_items_conflict(console: Console) -> None:
    c = console
    item = _held(c)
    rita, remy = c.login("rita"), c.login("remy")
    post_form(rita, "/console/queue", "/console/next")  # rita holds it
    # remy gets nothing (the only item is claimed) and cannot decide or claim it.
    r = post_form(remy, "/console/queue", "/console/next")
    assert (
        r.headers["location"].startswith("/console/queue?") and "empty=1" in r.headers["location"]
    )
    page = remy.get(f"/console/items/{item}")
    assert "Claimed by rita" in page.text and 'id="confirm"' not in page.text
    r = post_form(remy, f"/console/items/{item}", f"/console/items/{item}/decide", action="confirm")
    assert r.status_code == 409 and "claimed by another reviewer" in r.text
    r = post_form(remy, f"/console/items/{item}", f"/console/items/{item}/claim")
    assert r.status_code == 409
    # rita decides; deciding again (a second tab, a double submit) conflicts.
    token = csrf(rita.get(f"/console/items/{item}"))
    first = rita.post(f"/console/items/{item}/decide", data={"csrf": token, "action": "confirm"})
    assert first.status_code == 303
    again = rita.post(
        f"/console/items/{item}/decide",
        data={"csrf": token, "action": "false_positive", "note": "oops"},
    )
    assert again.status_code == 409 and "decided already" in again.text
    assert c.store.reviews.get(item).status == "confirmed"
    assert [h["action"] for h in c.store.reviews.history("id:c1")] == ["confirm"]
    # An unknown decision and an unknown item: clear pages.
    r = post_form(rita, "/console/queue", "/console/items/999999/decide", action="confirm")
    assert r.status_code == 404 and "no held item 999999" in r.text


def test_a_purged_preview_is_a_clear_page(console: Console) -> None:
    c = console
    item = _held(c)
    rita = c.login("rita")
    post_form(rita, "/console/queue", "/console/next")
    assert rita.get(f"/console/items/{item}/preview").status_code == 200
    assert c.store.kept.purge(time.time() + 365 * 86400) == 1  # its retention ended
    page = rita.get(f"/console/items/{item}")
    assert page.status_code == 200 and "No content is kept for this item" in page.text
    r = rita.get(f"/console/items/{item}/preview")
    assert r.status_code == 404 and "content is not kept" in r.text
    assert "Traceback" not in r.text and "<html" in r.text


def test_brute_force_logins_lock_the_account_and_are_audited(console: Console) -> None:
    c = console
    b = c.browser()
    for _ in range(MAX_FAILURES):
        token = csrf(b.get("/console/login"))
        r = b.post(
            "/console/login", data={"name": "rita", "password": "wrong password!", "csrf": token}
        )
        assert r.status_code == 401 and "wrong user name or password" in r.text
    token = csrf(b.get("/console/login"))
    r = b.post("/console/login", data={"name": "rita", "password": PASSWORD, "csrf": token})
    assert r.status_code == 429 and "too many failed logins" in r.text  # locked: even right
    actions = [a["action"] for a in c.store.audit.read(limit=10_000) if a["target"] == "rita"]
    assert actions.count("login.failed") == MAX_FAILURES and "login.lockout" in actions
    assert "login.locked" in actions
    # An unknown name fails the same way (no name is confirmed).
    token = csrf(b.get("/console/login"))
    r = b.post("/console/login", data={"name": "nobody", "password": "x" * 12, "csrf": token})
    assert r.status_code == 401 and "wrong user name or password" in r.text
    # An admin unlocks by setting a password.
    c.store.users.set_password("rita", PASSWORD, actor="test")
    assert c.login("rita").get("/console/queue").status_code == 200


def test_logins_are_throttled_per_address(console: Console) -> None:
    c = console
    b = c.browser()
    codes = []
    for i in range(12):
        token = csrf(b.get("/console/login"))
        r = b.post(
            "/console/login", data={"name": f"guess{i}", "password": "x" * 12, "csrf": token}
        )
        codes.append(r.status_code)
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    assert any(a["action"] == "login.throttled" for a in c.store.audit.read(limit=10_000))


def test_login_needs_its_own_token(console: Console) -> None:
    b = console.browser()
    r = b.post("/console/login", data={"name": "rita", "password": PASSWORD, "csrf": "made-up"})
    assert r.status_code == 403 and "hg_session" not in r.headers.get("set-cookie", "")


def test_no_session_fixation(console: Console) -> None:
    c = console
    b = c.browser()
    b.cookies.set("hg_session", "attacker-chosen-token", domain="testserver", path="/console")
    token = csrf(b.get("/console/login"))
    r = b.post("/console/login", data={"name": "rita", "password": PASSWORD, "csrf": token})
    assert r.status_code == 303
    issued = re.search(r"hg_session=([^;]+)", r.headers["set-cookie"])
    assert issued is not None and issued.group(1) != "attacker-chosen-token"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    assert "path=/console" in cookie
    # The attacker's token opens nothing; the issued one does.
    attacker = c.browser()
    attacker.cookies.set(
        "hg_session", "attacker-chosen-token", domain="testserver", path="/console"
    )
    assert attacker.get("/console/queue").status_code == 303
    # Logging out ends the session for good.
    post_form(b, "/console/queue", "/console/logout")
    replay = c.browser()
    replay.cookies.set("hg_session", issued.group(1), domain="testserver", path="/console")
    assert replay.get("/console/queue").status_code == 303


def test_disabling_a_user_ends_their_sessions(console: Console) -> None:
    c = console
    rita = c.login("rita")
    assert rita.get("/console/queue").status_code == 200
    ada = c.login("ada")
    r = post_form(ada, "/console/users", "/console/users/rita/disable")
    assert r.status_code == 303
    assert rita.get("/console/queue").status_code == 303
    b = c.browser()
    token = csrf(b.get("/console/login"))
    r = b.post("/console/login", data={"name": "rita", "password": PASSWORD, "csrf": token})
    assert r.status_code == 401


def test_a_new_password_ends_the_accounts_sessions(console: Console) -> None:
    c = console
    rita = c.login("rita")
    c.store.users.set_password("rita", "another long password", actor="test")
    assert rita.get("/console/queue").status_code == 303
    assert c.login("rita", "another long password").get("/console/queue").status_code == 200


def test_sessions_expire_when_idle_and_at_their_end(console: Console) -> None:
    c = console
    con = c.app.state.console
    start = time.time()
    con.clock = lambda: start
    rita = c.login("rita")
    con.clock = lambda: start + con.options.idle_minutes * 60 - 5
    assert rita.get("/console/queue").status_code == 200  # and seen: idle counts from here
    con.clock = lambda: start + 2 * con.options.idle_minutes * 60 - 10
    assert rita.get("/console/queue").status_code == 200
    con.clock = lambda: start + 4 * con.options.idle_minutes * 60
    assert rita.get("/console/queue").status_code == 303  # idle too long
    remy = c.login("remy")
    t = start + 4 * con.options.idle_minutes * 60
    for step in range(1, 20):  # busy all along, yet the session ends at its lifetime
        con.clock = lambda t=t, step=step: t + step * 25 * 60
        expected = 200 if step * 25 * 60 < con.options.session_hours * 3600 else 303
        assert remy.get("/console/queue").status_code == expected, step


def test_markup_in_metadata_notes_and_ids_is_escaped(console: Console) -> None:
    c = console
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    c.store.create_bank("evil")
    from hashguard.content import hash_content
    from tests.console.conftest import MODS
    from tests.helpers import import_text

    pdq = hash_content((c.testdata / MODS / "aaa-orig.jpg").read_bytes()).pdq
    assert pdq is not None
    csv_evil = evil.replace('"', "'")
    import_text(
        c.store,
        "evil",
        f'signal_type,signal,id,category\npdq,{pdq.hex()},"{csv_evil}","{csv_evil}"\n',
    )
    c.store.policies.set({"rules": [{"name": "all", "verdict": "review"}]}, actor="test")
    from tests.console.conftest import wait_for

    wait_for(lambda: c.engine.seq >= c.store.last_seq() and c.engine.policy.version > 1)
    r = c.client.post(
        "/v1/match",
        headers={"Authorization": f"Bearer {c.key}"},
        files={"file": ("x.jpg", (c.testdata / MODS / "aaa-orig.jpg").read_bytes())},
        data={"content_id": evil, "chat_id": evil, "uploader_id": evil},
    )
    assert r.status_code == 200 and r.json()["verdict"] == "review", r.text
    item = next(i for i in c.store.reviews.queue() if evil in i.content_key)
    rita = c.login("rita")
    post_form(rita, "/console/queue", f"/console/items/{item.id}/claim")
    post_form(
        rita,
        f"/console/items/{item.id}",
        f"/console/items/{item.id}/decide",
        action="escalate",
        note=evil,
    )
    lena = c.login("lena")
    for b, path in (
        (rita, "/console/queue?status=open"),
        (lena, f"/console/items/{item.id}"),
        (lena, "/console/queue?status=escalated"),
        (lena, "/console/audit"),
    ):
        page = b.get(path)
        assert page.status_code in (200, 403)
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
    page = lena.get(f"/console/items/{item.id}")
    assert "&lt;script&gt;alert" in page.text  # shown, as text


def test_reveals_stop_at_the_exposure_limit(console: Console) -> None:
    c = console
    con = c.app.state.console
    items = [_held(c, f"c{i}") for i in range(3)]
    con.options = dataclasses.replace(con.options, reveals_per_hour=2)
    rita = c.login("rita")
    for item in items[:2]:
        post_form(rita, "/console/queue", f"/console/items/{item}/claim")
        r = post_form(rita, f"/console/items/{item}", f"/console/items/{item}/reveal")
        assert r.status_code == 303
    post_form(rita, "/console/queue", f"/console/items/{items[2]}/claim")
    r = post_form(rita, f"/console/items/{items[2]}", f"/console/items/{items[2]}/reveal")
    assert r.status_code == 429 and "Time for a break" in r.text
    assert not c.store.reviews.revealed(c.store.users.get("rita").id, items[2], 0)
    # The preview stays blurred: the same bytes as before the refusal.
    assert c.store.audit.read(limit=10_000)[-1]["action"] == "review.reveal_refused"
    lena = c.login("lena")
    page = lena.get("/console/exposure")
    assert re.search(r"<td>rita</td><td>reviewer</td><td>2</td><td>2</td>", page.text)


def test_two_reviewers_never_hold_the_same_item(console: Console) -> None:
    c = console
    for i in range(6):
        _held(c, f"c{i}")
    users = [c.store.users.get(n) for n in ("rita", "remy", "lena")]
    got: dict[str, list[int]] = {u.name: [] for u in users}
    barrier = threading.Barrier(len(users))

    def work(user_id: int, name: str) -> None:
        barrier.wait()
        while True:
            item = c.store.reviews.claim_next(user_id, now=time.time(), seconds=600, skip=got[name])
            if item is None:
                return
            got[name].append(item.id)

    threads = [threading.Thread(target=work, args=(u.id, u.name)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for ids in got.values() for i in ids]
    assert sorted(claimed) == sorted(i.id for i in c.store.reviews.queue())  # all, once each
    assert len(claimed) == len(set(claimed)) == 6
    # A lapsed claim frees the item.
    item = c.store.reviews.get(claimed[0])
    later = time.time() + 601
    other = next(u for u in users if u.id != item.claimed_by)
    assert c.store.reviews.claim(item.id, other.id, now=later, seconds=60).claimed_by == other.id


def test_an_undo_is_refused_after_its_window(console: Console) -> None:
    c = console
    con = c.app.state.console
    item = _held(c)
    lena = c.login("lena")
    post_form(lena, f"/console/items/{item}", f"/console/items/{item}/decide", action="confirm")
    con.options = dataclasses.replace(con.options, undo_window=60.0)
    start = time.time()
    con.clock = lambda: start + 120
    r = post_form(lena, "/console/decided", f"/console/items/{item}/undo")
    assert r.status_code == 409 and "too late to undo" in r.text
    assert c.store.reviews.get(item).status == "confirmed"
    assert c.store.entry("confirmed", f"review-{item}").status == "active"
