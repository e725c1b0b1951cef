"""Requests generated from /openapi.json (schemathesis): no 5xx on any of them, on SQLite
and PostgreSQL. Runs with an admin key, so every route is reached past authentication."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from hashguard.store.store import Store
from tests.api.conftest import make_service

EXAMPLES = 30  # per operation and mode (valid requests, then invalid ones)


def _fuzz(operation: Any, headers: dict[str, str], mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def no_5xx(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    try:
        no_5xx()
    except Unsatisfiable:
        # A route with nothing to get wrong (no parameters, no body) has no invalid requests.
        assert mode is GenerationMode.NEGATIVE


def test_no_server_errors(store: Store, tmp_path: Path) -> None:
    store.create_bank("iwf")
    for service in make_service(store, tmp_path):
        schema = schemathesis.openapi.from_asgi("/openapi.json", service.client.app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 15
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, service.auth("admin"), mode)
