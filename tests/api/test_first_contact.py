"""What a person meets first: the page at /, and a 401 that says how to get a key."""

from __future__ import annotations

from tests.api.conftest import Service


def test_root_is_a_page_linking_to_the_docs(service: Service) -> None:
    page = service.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'href="docs"' in page.text and 'href="openapi.json"' in page.text
    assert service.client.get("/docs").status_code == 200


def test_401_says_how_to_get_a_key(service: Service) -> None:
    for headers in ({}, {"Authorization": "Bearer hg_not-a-key"}):
        refused = service.client.get("/v1/banks", headers=headers)
        assert refused.status_code == 401
        error = refused.json()["error"]
        assert error["type"] == "Unauthorized"
        assert "hashguard keys create" in error["message"] and "POST /v1/keys" in error["message"]
