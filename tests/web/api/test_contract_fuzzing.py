"""Contract fuzzing: schemathesis generates requests from our OpenAPI document; the server must
never fail, must answer as documented, and must not ignore authentication.

Negative generation (schema-violating requests) runs too: every such request must be refused
with a 4xx. The device's real token and schema version are sent unless the generated case
brings its own (deliberately wrong) header, which then wins."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
)

CHECKS = {
    GenerationMode.POSITIVE: [not_a_server_error, response_schema_conformance, ignored_auth],
    GenerationMode.NEGATIVE: [
        not_a_server_error,
        response_schema_conformance,
        negative_data_rejection,
    ],
}
EXAMPLES = 25
# The refusals the protocol documents, 426 (client outdated) and 413 (too large) included.
REFUSALS = ["400", "401", "403", "404", "405", "409", "413", "415", "422", "426", "429"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}}}
)


def operations(app):
    """Every operation, logout last (it revokes the token the others use)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(found, key=lambda op: op.path == "/auth/logout")


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_every_operation_keeps_its_contract(app, worker, mode):
    found = operations(app)
    assert len(found) == 8
    for operation in found:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_contract(case) -> None:
            headers = {**worker.headers, **(case.headers or {})}
            case.call_and_validate(headers=headers, checks=CHECKS[mode])

        keeps_contract()
