"""One schemathesis run over an OpenAPI document, shared by the contract tests: every
operation in positive and negative mode, every answer held to the document by all of
schemathesis' checks, every failure collected (none shrunk away).

FUZZ_EXAMPLES sets the cases per operation and mode; FUZZ_MIN_CASES the fewest in all
(`make fuzz` runs with many more than `make test`).
"""

import contextlib
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

MIN_CASES = int(os.environ.get("FUZZ_MIN_CASES", "0"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def examples(default: int) -> int:
    """Return the cases per operation and mode: FUZZ_EXAMPLES, else this test's default."""
    return int(os.environ.get("FUZZ_EXAMPLES", str(default)))


@dataclass
class FuzzRun:
    """What one run sent and found."""

    cases: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.cases.values())

    def summary(self, name: str) -> str:
        """Say the run in one line, as `make fuzz` reports it."""
        return (
            f"{name}: cases={self.total} server_errors={self.server_errors}"
            f" failures={len(self.failures)}"
        )


def fuzz(
    schema: Any,
    call: Callable[[Any], Any],
    *,
    examples: int,
    headers: dict[str, str] | None = None,
) -> FuzzRun:
    """Send generated requests for every operation through `call` and check each answer."""
    run = FuzzRun()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # every operation of the document can be read
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def one(case: Any) -> None:
                run.cases[case.operation.label] += 1
                response = call(case)
                if response.status_code >= 500:
                    run.server_errors += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except BaseException as failure:  # every failure is collected
                    run.failures.append(f"{case.method} {case.formatted_path}: {failure}"[:2000])

            # Unsatisfiable: nothing to make invalid (an operation without parameters or body).
            with contextlib.suppress(Unsatisfiable):
                one()
    return run
