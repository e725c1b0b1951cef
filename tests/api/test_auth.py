"""API keys: required, scoped, revocable, rate-limited; and the loopback-only dev mode."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hashguard.api.server import ServeOptions
from hashguard.cli import main
from hashguard.store.store import Store
from tests.api.conftest import Service, make_service

MATCH_BODY = {"signals": [{"type": "md5", "value": "0" * 32}]}


def test_keys_are_required_and_checked(service: Service) -> None:
    client = service.client
    for headers in ({}, {"Authorization": "Bearer hg_nope_nope"}, {"Authorization": "Basic x"}):
        response = client.post("/v1/match", json=MATCH_BODY, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]["type"] == "Unauthorized"
    assert service.call("POST", "/v1/match", "match", json=MATCH_BODY).status_code == 200


def test_match_key_cannot_curate_or_read_lists(service: Service) -> None:
    forbidden = [
        ("GET", "/v1/banks"),
        ("POST", "/v1/banks"),
        ("GET", "/v1/banks/iwf"),
        ("DELETE", "/v1/banks/iwf"),
        ("GET", "/v1/banks/iwf/entries/x1"),
        ("DELETE", "/v1/banks/iwf/entries/x1"),
        ("POST", "/v1/banks/iwf/import"),
        ("GET", "/v1/changes"),
        ("GET", "/v1/keys"),
        ("GET", "/v1/audit"),
    ]
    for method, url in forbidden:
        response = service.call(method, url, "match", json={"name": "x"})
        assert response.status_code == 403, (method, url, response.text)
        assert "needs" in response.json()["error"]["message"]
    # curate may not manage keys; admin may do everything
    assert service.call("GET", "/v1/keys", "curate").status_code == 403
    assert service.call("GET", "/v1/banks", "admin").status_code == 200
    assert service.call("POST", "/v1/match", "admin", json=MATCH_BODY).status_code == 200


def test_keys_made_and_revoked_over_http(service: Service, store: Store) -> None:
    made = service.call("POST", "/v1/keys", "admin", json={"name": "uploads", "scopes": ["match"]})
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert key.startswith("hg_") and made.json()["scopes"] == ["match"]
    listed = service.call("GET", "/v1/keys", "admin").json()["keys"]
    assert "uploads" in [k["name"] for k in listed]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    new = {"Authorization": f"Bearer {key}"}
    assert service.client.post("/v1/match", json=MATCH_BODY, headers=new).status_code == 200
    revoked = service.call("DELETE", "/v1/keys/uploads", "admin")
    assert revoked.json()["revoked_at"] is not None
    after = service.client.post("/v1/match", json=MATCH_BODY, headers=new)
    assert after.status_code == 401 and "revoked" in after.json()["error"]["message"]
    # a key revoked elsewhere (the CLI, another process) is refused within a second
    store.keys.revoke("test-curate", actor="test")
    deadline = time.monotonic() + 1.0
    while service.call("GET", "/v1/banks").status_code == 200:
        assert time.monotonic() < deadline, "revoked key still accepted after 1 s"
        time.sleep(0.05)
    actions = [r["action"] for r in service.call("GET", "/v1/audit", "admin").json()["records"]]
    assert actions.count("key.revoke") == 2 and "key.create" in actions


def _codes(service: Service, headers: dict[str, str], n: int) -> list[int]:
    """The status codes of ``n`` match requests in a row."""
    return [
        service.client.post("/v1/match", json=MATCH_BODY, headers=headers).status_code
        for _ in range(n)
    ]


class SteppedClock:
    """A clock that moves only when told, so a rate test does not depend on the machine's speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_answers_429_with_retry_after(store: Store, tmp_path: Path) -> None:
    key = store.keys.create("slow", ["match"], rate_limit=5, actor="test")[1]
    for service in make_service(store, tmp_path):
        clock = SteppedClock()
        service.client.app.state.auth.limiter.clock = clock  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {key}"}
        assert _codes(service, headers, 12) == [200] * 5 + [429] * 7
        limited = service.client.post("/v1/match", json=MATCH_BODY, headers=headers)
        assert int(limited.headers["Retry-After"]) >= 1
        assert "limit of 5 requests/s" in limited.json()["error"]["message"]
        # a fifth of a second later one request is allowed again (5/s), the next is not
        clock.now += 0.2
        assert _codes(service, headers, 2) == [200, 429]

        # a batch counts each item: ten items are refused while the bucket holds three ...
        batch = {"items": [MATCH_BODY] * 10}
        clock.now += 0.6
        refused = service.client.post("/v1/match/batch", json=batch, headers=headers)
        assert refused.status_code == 429 and "batch of 10" in refused.text, refused.text
        # ... and the refused batch took nothing: three single requests still pass
        assert _codes(service, headers, 4) == [200] * 3 + [429]
        # a batch larger than a second's worth passes on a full bucket and leaves a debt of
        # five: the next request waits until it is paid and one more has built up (1.2 s)
        clock.now += 1.0
        assert (
            service.client.post("/v1/match/batch", json=batch, headers=headers).status_code == 200
        )
        after = service.client.post("/v1/match", json=MATCH_BODY, headers=headers)
        assert after.status_code == 429 and int(after.headers["Retry-After"]) == 2
        clock.now += 1.0
        assert _codes(service, headers, 1) == [429]
        clock.now += 0.2
        assert _codes(service, headers, 2) == [200, 429]


def test_dev_mode_without_keys_only_on_loopback(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for service in make_service(store, tmp_path, ServeOptions(auth=False)):
        assert service.client.post("/v1/match", json=MATCH_BODY).status_code == 200
        assert service.client.get("/v1/health").json()["auth"] == "off"
    code = main(["--db", store.url, "serve", "--host", "0.0.0.0", "--no-auth"])
    assert code == 7
    assert "--no-auth is for local development" in capsys.readouterr().err
