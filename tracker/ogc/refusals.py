"""The refusal of one query parameter, which names it as data for the exception document."""

from tracker.core.errors import BadInput

# OGC API – Features (7.5, exception.yaml) names a refused parameter value so.
INVALID_PARAMETER = "InvalidParameterValue"


class InvalidParameter(BadInput):
    """A query or path parameter the API cannot use; `parameter` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message, code=INVALID_PARAMETER, field=parameter)
        self.parameter = parameter


def refused_parameter(error: BadInput) -> str | None:
    """Return the name of the parameter a refusal is about, if it names one."""
    return getattr(error, "parameter", None) or error.field
