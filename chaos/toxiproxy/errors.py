"""The API's errors: a message and an HTTP status, rendered as ``{"error", "status"}``."""

from __future__ import annotations

from enum import Enum
from http import HTTPStatus


class ApiError(Exception):
    """An error the HTTP API reports with its own status code."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def to_json(self) -> dict[str, object]:
        return {"error": self.message, "status": self.status}


class Problem(Enum):
    """The errors the real server names, with their message and status."""

    BAD_REQUEST_BODY = ("bad request body", HTTPStatus.BAD_REQUEST)
    MISSING_FIELD = ("missing required field", HTTPStatus.BAD_REQUEST)
    PROXY_NOT_FOUND = ("proxy not found", HTTPStatus.NOT_FOUND)
    PROXY_EXISTS = ("proxy already exists", HTTPStatus.CONFLICT)
    INVALID_STREAM = (
        "stream was invalid, can be either upstream or downstream",
        HTTPStatus.BAD_REQUEST,
    )
    INVALID_TOXIC_TYPE = ("invalid toxic type", HTTPStatus.BAD_REQUEST)
    TOXIC_EXISTS = ("toxic already exists", HTTPStatus.CONFLICT)
    TOXIC_NOT_FOUND = ("toxic not found", HTTPStatus.NOT_FOUND)

    def error(self, detail: str | None = None) -> ApiError:
        """A fresh exception for this problem, with ``": <detail>"`` appended if given."""
        message, status = self.value
        return ApiError(f"{message}: {detail}" if detail else message, int(status))


class ListenError(Exception):
    """A proxy could not listen on its address; the API answers 500 with this message."""
