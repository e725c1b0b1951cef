"""The console's "done when", through the real HTTP app on SQLite and PostgreSQL: a held
item is worked, confirmed, blocked on its next upload and removed retroactively where it
was seen before, each action reaching the webhook once; false positive, undo, appeals."""

from __future__ import annotations

import time

from tests.console.conftest import CONFIRM_EVENTS, MODS, Console, delivered, post_form, wait_for


def test_confirm_blocks_the_next_upload_and_earlier_copies(console: Console) -> None:
    c = console
    # Seen before anything was held: 12 bits from the listed original, so let through.
    assert c.upload("sharpen-a-lot.jpg", "c0", "chat-0")["verdict"] == "allow"
    first = c.upload("sharpen-a-little.jpg", "c1", "chat-1")  # 6 bits: held
    assert first["verdict"] == "review"
    assert c.upload("sharpen-a-little.jpg", "c1", "chat-2")["verdict"] == "review"
    items = c.store.reviews.queue()
    assert [(i.content_key, i.sightings, i.category) for i in items] == [("id:c1", 2, "A")]
    assert c.store.kept.has("id:c1", now=time.time())  # the policy keeps content, sealed

    wait_for(lambda: len(c.store.seen_log.records()) >= 3)  # written in batches
    rita = c.login("rita")
    r = post_form(rita, "/console/queue", "/console/next")
    assert r.status_code == 303 and r.headers["location"] == f"/console/items/{items[0].id}"
    page = rita.get(r.headers["location"])
    assert page.status_code == 200
    assert "iwf" in page.text and "x1" in page.text and "iwf-near" in page.text
    assert "chat-1" in page.text and "chat-2" in page.text  # the spread
    assert "3 sighting(s) of 2 item(s)" in page.text  # c0 is near enough to count
    assert "confirm if the image shows" in page.text  # the category's guidance
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    blurred = rita.get(f"/console/items/{items[0].id}/preview")
    assert blurred.status_code == 200 and blurred.headers["content-type"] == "image/jpeg"

    r = post_form(
        rita,
        page.url.path,
        f"/console/items/{items[0].id}/decide",
        action="confirm",
        classification="A1",
        category="A",
    )
    assert r.status_code == 303
    done = c.store.reviews.get(items[0].id)
    assert (done.status, done.classification, done.entry) == (
        "confirmed",
        "A1",
        f"confirmed/review-{done.id}",
    )
    assert not c.store.kept.has("id:c1", now=time.time())  # deleted once decided
    entry = c.store.entry("confirmed", f"review-{done.id}")
    assert {s.type for s in entry.signals} >= {"md5", "sha256", "pdq"}

    # The next upload of the same image is blocked by the platform's own bank ...
    wait_for(lambda: c.engine.seq >= c.store.last_seq())
    again = c.upload("sharpen-a-little.jpg", "c3", "chat-3")
    assert again["verdict"] == "block"
    assert {m["bank"] for m in again["matches"]} == {"iwf", "confirmed"}
    # ... and the copies seen before are found and acted on retroactively.
    retro = wait_for(
        lambda: (
            [r for r in c.store.match_log.records() if r["retroactive"]]
            if len([r for r in c.store.match_log.records() if r["retroactive"]]) >= 2
            else None
        )
    )
    assert {r["content_key"] for r in retro} == {"id:c0", "id:c1"}
    assert all(r["verdict"] == "block" for r in retro)

    # The webhook got every action once: two holds, the decision, two retroactive blocks
    # and the new block.
    assert sorted(delivered(c.receiver, 6)) == CONFIRM_EVENTS
    time.sleep(0.5)
    assert len(c.receiver.requests) == 6 and c.receiver.bad_signatures == 0
    confirm = next(e for e in c.events() if e["type"] == "decision.confirm")
    assert confirm["classification"] == "A1" and confirm["by"] == "rita"
    assert confirm["content_key"] == "id:c1" and confirm["match_id"] == first["match_id"]

    # Audited: the login, the decision.
    actions = [(a["actor"], a["action"]) for a in c.store.audit.read(limit=10_000)]
    assert ("user:rita", "login") in actions and ("user:rita", "review.confirm") in actions


def test_false_positive_suppresses_and_a_lead_undoes_it(console: Console) -> None:
    c = console
    assert c.upload("sharpen-a-little.jpg", "c1", "chat-1")["verdict"] == "review"
    item = c.store.reviews.queue()[0]
    rita = c.login("rita")
    post_form(rita, "/console/queue", "/console/next")
    r = post_form(
        rita,
        f"/console/items/{item.id}",
        f"/console/items/{item.id}/decide",
        action="false_positive",
        note="a bridge, not the listed scene",
    )
    assert r.status_code == 303
    assert c.store.reviews.get(item.id).status == "false_positive"
    wait_for(lambda: c.engine.seq >= c.store.last_seq())
    # The suppress bank now cancels the iwf match for this image.
    assert c.upload("sharpen-a-little.jpg", "c2", "chat-2")["verdict"] == "allow"

    # A reviewer may not undo; a lead may.
    assert (
        post_form(rita, f"/console/items/{item.id}", f"/console/items/{item.id}/undo").status_code
        == 403
    )
    lena = c.login("lena")
    r = post_form(lena, "/console/decided", f"/console/items/{item.id}/undo", note="too quick")
    assert r.status_code == 303
    back = c.store.reviews.get(item.id)
    assert (back.status, back.entry) == ("open", None)
    assert c.store.entry("false-positives", f"review-{item.id}").status == "retracted"
    wait_for(lambda: c.engine.seq >= c.store.last_seq())
    assert c.upload("sharpen-a-little.jpg", "c4", "chat-4")["verdict"] == "review"
    kinds = delivered(c.receiver, 2, "decision.")
    assert kinds == ["decision.false_positive", "decision.undone"]


def test_escalate_then_a_lead_decides(console: Console) -> None:
    c = console
    c.upload("sharpen-a-little.jpg", "c1", "chat-1")
    item = c.store.reviews.queue()[0]
    rita = c.login("rita")
    post_form(rita, "/console/queue", "/console/next")
    post_form(
        rita,
        f"/console/items/{item.id}",
        f"/console/items/{item.id}/decide",
        action="escalate",
        note="not sure: a lead please",
    )
    assert c.store.reviews.get(item.id).status == "escalated"
    # Reviewers neither see the escalated queue nor decide escalated items.
    assert rita.get("/console/queue?status=escalated").status_code == 403
    r = post_form(
        rita, f"/console/items/{item.id}", f"/console/items/{item.id}/decide", action="confirm"
    )
    assert r.status_code == 403
    lena = c.login("lena")
    assert f"/console/items/{item.id}" in lena.get("/console/queue?status=escalated").text
    r = post_form(
        lena,
        f"/console/items/{item.id}",
        f"/console/items/{item.id}/decide",
        action="confirm",
        classification="B2",
    )
    assert r.status_code == 303
    assert c.store.reviews.get(item.id).status == "confirmed"
    history = [h["action"] for h in c.store.reviews.history("id:c1")]
    assert history == ["confirm", "escalate"]


def test_appeals_are_filed_by_the_platform_and_decided_by_leads(console: Console) -> None:
    c = console
    c.upload("sharpen-a-little.jpg", "c1", "chat-1")
    item = c.store.reviews.queue()[0]
    lena = c.login("lena")
    post_form(lena, "/console/queue", "/console/next")
    post_form(
        lena,
        f"/console/items/{item.id}",
        f"/console/items/{item.id}/decide",
        action="confirm",
        classification="A2",
    )
    wait_for(lambda: c.engine.seq >= c.store.last_seq())
    blocked = c.upload("sharpen-a-little.jpg", "c9", "chat-9")
    assert blocked["verdict"] == "block"
    auth = {"Authorization": f"Bearer {c.key}"}
    held = c.client.post(
        "/v1/appeals", headers=auth, json={"match_id": item.match_id, "reason": "x"}
    )
    assert held.status_code == 422  # a review verdict restricted nothing
    r = c.client.post(
        "/v1/appeals",
        headers=auth,
        json={"match_id": blocked["match_id"], "reason": "my own photo <b>"},
    )
    assert r.status_code == 201, r.text
    appeal = r.json()
    assert (
        c.client.post(
            "/v1/appeals", headers=auth, json={"match_id": blocked["match_id"]}
        ).status_code
        == 409
    )
    assert c.client.post("/v1/appeals", json={"match_id": 1}).status_code == 401
    page = lena.get("/console/appeals")
    assert "my own photo &lt;b&gt;" in page.text  # escaped
    rita = c.login("rita")
    assert rita.get("/console/appeals").status_code == 403
    r = post_form(
        lena,
        "/console/appeals",
        f"/console/appeals/{appeal['id']}",
        outcome="overturned",
        note="the user's own photo",
    )
    assert r.status_code == 303
    out = c.client.get(f"/v1/appeals/{appeal['id']}", headers=auth).json()
    assert out["status"] == "overturned"
    # Overturned: the confirmation's entry is retracted and the image suppressed.
    assert c.store.entry("confirmed", f"review-{item.id}").status == "retracted"
    assert c.store.entry("false-positives", f"appeal-{appeal['id']}").status == "active"
    wait_for(lambda: c.engine.seq >= c.store.last_seq())
    assert c.upload("sharpen-a-little.jpg", "c10", "chat-10")["verdict"] == "allow"
    kinds = delivered(c.receiver, 1, "appeal.")
    assert kinds == ["appeal.overturned"]
    assert c.store.reviews.appeal_counts() == {"overturned": 1}


def test_an_admin_sees_the_banks_and_sets_the_policy(console: Console) -> None:
    c = console
    ada = c.login("ada")
    page = ada.get("/console/admin")
    assert page.status_code == 200
    assert "iwf" in page.text and "false positives (suppress)" in page.text
    assert "platform" in page.text  # the webhook, never its secret
    assert "console-webhook-secret" not in page.text
    before = c.store.policies.current()
    assert before is not None
    bad = post_form(
        ada,
        "/console/admin",
        "/console/admin/policy",
        document='{"rules": [{"name": "x", "verdict": "delete"}]}',
    )
    assert bad.status_code == 422 and "nothing changed" in bad.text and "verdict" in bad.text
    assert c.store.policies.current() == before
    doc = '[[rules]]\nname = "all"\nverdict = "review"\n'  # TOML, without suppress banks
    r = post_form(ada, "/console/admin", "/console/admin/policy", document=doc)
    assert r.status_code == 303
    now = c.store.policies.current()
    assert now is not None and now.version == before.version + 1 and now.actor == "user:ada"
    assert c.engine.policy.version == now.version  # in force at once in this process
    page = ada.get("/console/admin")
    assert "are not suppressed" in page.text  # the console warns


def test_other_held_copies_of_the_same_file_are_decided_with_it(console: Console) -> None:
    c = console
    c.upload("sharpen-a-little.jpg", "c1", "chat-1")
    c.upload("sharpen-a-little.jpg", "c5", "chat-5")  # the same file, another content id
    c.upload("high-saturation.jpg", "c6", "chat-6")  # another file: still to review
    wait_for(lambda: len(c.store.seen_log.records()) >= 3)
    first, twin, other = c.store.reviews.queue()
    rita = c.login("rita")
    post_form(rita, "/console/queue", "/console/next")
    r = post_form(
        rita,
        f"/console/items/{first.id}",
        f"/console/items/{first.id}/decide",
        action="false_positive",
        note="not the listed scene",
    )
    assert r.status_code == 303
    assert c.store.reviews.get(twin.id).status == "false_positive"
    assert c.store.reviews.get(other.id).status == "open"
    [h] = c.store.reviews.history("id:c5")
    assert h["note"] == f"the same file as item {first.id}" and h["actor"] == "user:rita"
    assert not c.store.kept.has("id:c5", now=time.time())
    delivered(c.receiver, 2, "decision.")
    events = [e for e in c.events() if e["type"].startswith("decision.")]
    assert sorted(e["content_key"] for e in events) == ["id:c1", "id:c5"]
    assert [e.get("same_as") for e in events if e["content_key"] == "id:c5"] == [first.id]


def test_batch_items_held_for_review_keep_their_content(console: Console) -> None:
    import base64

    c = console
    data = (c.testdata / MODS / "sharpen-a-little.jpg").read_bytes()
    other = (c.testdata / MODS / "aaa-orig.jpg").read_bytes()
    items = [
        {"content": base64.b64encode(data).decode(), "content_id": "b1"},  # held
        {"content": base64.b64encode(other).decode(), "content_id": "b2"},  # 0 bits: held
        {"signals": [{"type": "md5", "value": "0" * 32}], "content_id": "b3"},  # nothing
    ]
    r = c.client.post(
        "/v1/match/batch", json={"items": items}, headers={"Authorization": f"Bearer {c.key}"}
    )
    assert r.status_code == 200, r.text
    assert [x["verdict"] for x in r.json()["results"]] == ["review", "review", "allow"]
    ring = c.app.state.console.ring
    kept = c.store.kept.get(ring, "id:b1", now=time.time())
    assert kept is not None and kept.data == data
    assert c.store.kept.has("id:b2", now=time.time())
    assert not c.store.kept.has("id:b3", now=time.time())
