"""/openapi.json is whole (every $ref resolves, every error documented), the errors it
documents are the ones answered, and /docs works with no network."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import Service

JSON = {"content-type": "application/json"}
# Every route that takes a JSON body, with a scope allowed to call it.
JSON_ROUTES = [
    ("POST", "/v1/match", "match"),
    ("POST", "/v1/match/text", "match"),
    ("POST", "/v1/match/batch", "match"),
    ("POST", "/v1/banks", "curate"),
    ("PATCH", "/v1/banks/iwf", "curate"),
    ("POST", "/v1/banks/iwf/entries", "curate"),
    ("POST", "/v1/keys", "admin"),
]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(schema: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = schema
    for part in ref[2:].split("/"):
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_every_ref_resolves(service: Service) -> None:
    schema = service.client.get("/openapi.json").json()
    refs = set(_refs(schema))
    assert "#/components/schemas/MatchSignals" in refs
    assert "#/components/schemas/EntryIn" in refs
    for ref in refs:
        _resolve(schema, ref)


def test_every_error_is_documented(service: Service) -> None:
    schema = service.client.get("/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            needed = set()
            if operation.get("security"):
                needed |= {"401", "403", "429"}
            if operation.get("requestBody"):
                needed |= {"400", "413", "415", "422"}
            assert needed <= set(responses), (method, path, needed - set(responses))
            for code in needed:
                assert responses[code]["content"]["application/json"]["schema"] == error
                assert responses[code]["description"].split()[0].strip(":").isidentifier()


@pytest.mark.parametrize("body", [b'{"signals": [', b"\xff\xfe{", b"{'a': 1}"])
def test_a_body_that_does_not_parse_is_400_everywhere(service: Service, body: bytes) -> None:
    for method, url, scope in JSON_ROUTES:
        sent = service.call(method, url, scope, content=body, headers=JSON)
        assert sent.status_code == 400, (url, sent.text)
        error = sent.json()["error"]
        assert error["type"] == "MalformedBody", url
        assert error["message"].startswith("the body is not valid JSON"), (url, error)


@pytest.mark.parametrize("body", [b"[]", b"3", b'"x"'])
def test_a_body_that_is_not_an_object_is_422_everywhere(service: Service, body: bytes) -> None:
    for method, url, scope in JSON_ROUTES:
        sent = service.call(method, url, scope, content=body, headers=JSON)
        assert sent.status_code == 422, (url, sent.text)
        assert sent.json() == {
            "error": {"type": "InvalidValue", "message": "body: must be a JSON object"}
        }, url


def test_schema_errors_name_the_field_alike_everywhere(service: Service) -> None:
    fields = {}
    for method, url, scope in JSON_ROUTES:
        sent = service.call(method, url, scope, json={"zzz": 1}, headers=JSON)
        assert sent.status_code == 422, (url, sent.text)
        error = sent.json()["error"]
        assert error["type"] == "InvalidValue", url
        fields[url] = error["message"].split(":")[0]
    # named by the field itself, never by FastAPI's "body." prefix
    assert fields["/v1/match/text"] == "text" and fields["/v1/banks"] == "name"
    assert fields["/v1/banks/iwf/entries"] == "id" and fields["/v1/match/batch"] == "items"


def test_http_messages_name_http_means_not_cli_flags(service: Service) -> None:
    unknown = service.call(
        "POST", "/v1/banks/iwf/import", content=b"x", headers={"content-type": "text/plain"}
    )
    assert unknown.status_code == 422
    message = unknown.json()["error"]["message"]
    assert "?format=csv" in message and "--" not in message
    wrong = service.call("POST", "/v1/banks/iwf/import?format=xml", content=b"x")
    assert "'xml'" in wrong.json()["error"]["message"] and "--" not in message


def test_docs_need_no_network(service: Service) -> None:
    for page in ("/docs", "/redoc"):
        html = service.client.get(page)
        assert html.status_code == 200
        urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html.text)
        assert urls, page
        for url in urls:
            assert not re.match(r"(https?:)?//", url), (page, url)  # same server only
            if url.endswith((".js", ".css", ".png")):
                asset = service.client.get(url)
                assert asset.status_code == 200 and len(asset.content) > 1000, url
        assert "openapi.json" in html.text


def test_not_found_points_to_a_route_not_a_command(service: Service) -> None:
    for method, url, scope, says in (
        ("GET", "/v1/banks/nope", "curate", "no bank named 'nope' (see GET /v1/banks)"),
        ("DELETE", "/v1/keys/nope", "admin", "no API key named 'nope' (see GET /v1/keys)"),
        ("POST", "/v1/sources/nope/sync", "curate", "no source named 'nope' (see GET /v1/sources)"),
    ):
        missing = service.call(method, url, scope)
        assert missing.status_code == 404, url
        assert missing.json()["error"] == {"type": "NotFound", "message": says}
