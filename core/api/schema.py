"""The error answers of the API as the OpenAPI document shows them: core's body (``core.api.exceptions``) for each
status an operation may answer, so that clients and the fuzzing test know every status to expect."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ApiErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, naming the field or object concerned.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="400 only, when fields are wrong: the messages by field (`values.name`: [...]).",
    )


ERROR_DESCRIPTIONS = {
    400: "The request is malformed: `detail` names the field, `errors` lists each field's messages.",
    401: "Not signed in: no credentials, or a token that is unknown or revoked.",
    403: "Signed in, but not allowed to do this.",
    404: "No such object.",
    409: "Conflicts with the current state (it exists already, or changed meanwhile).",
    429: "Too many requests: try again after `Retry-After` seconds.",
    503: "A step (Git, the catalog) failed; nothing was changed.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The error answers of an operation: 401 always (every operation needs a signed-in user), and ``codes``."""
    return {
        code: OpenApiResponse(ApiErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in sorted({401, *codes})
    }
