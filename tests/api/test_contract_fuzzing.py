"""Contract fuzzing: schemathesis generates requests from our OpenAPI document; the server must
never fail, must answer as documented, and must not ignore authentication.

Negative generation (schema-violating requests) runs too, for server errors and documented
answers; its `negative_data_rejection` check is left out because the test sends a real token
in place of the generated Authorization header, which that check counts as accepting a
violation (tracked in issue 6)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth, response_schema_conformance

CHECKS = {
    GenerationMode.POSITIVE: [not_a_server_error, response_schema_conformance, ignored_auth],
    GenerationMode.NEGATIVE: [not_a_server_error, response_schema_conformance],
}
EXAMPLES = 25


def operations(app):  # noqa: ANN001, ANN201
    """Every operation, logout last (it revokes the token the others use)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(found, key=lambda op: op.path == "/auth/logout")


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_every_operation_keeps_its_contract(app, worker, mode):  # noqa: ANN001
    found = operations(app)
    assert len(found) == 7
    for operation in found:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def keeps_contract(case) -> None:  # noqa: ANN001
            case.call_and_validate(headers=worker.headers, checks=CHECKS[mode])

        keeps_contract()
