"""The error body every API error uses."""

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    """One problem with the request."""

    field: str | None = Field(description="Dotted path of the input at fault, if one is.")
    message: str = Field(description="What is wrong and how to fix it.")


class ErrorInfo(BaseModel):
    """What went wrong."""

    code: str = Field(description="Stable machine-readable code, e.g. validation_failed.")
    message: str = Field(description="Human-readable explanation.")
    field: str | None = Field(default=None, description="The (first) input at fault.")
    details: list[ErrorDetail] = Field(
        default_factory=list, description="Every problem, when several were found."
    )


class ErrorBody(BaseModel):
    """``{"error": {...}}``."""

    error: ErrorInfo
