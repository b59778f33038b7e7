"""Service errors in the wire shape botocore parses for the services the stand-ins speak.

botocore's ``RestJSONParser`` (Bedrock Runtime, SageMaker Runtime) takes the error code from the
``x-amzn-ErrorType`` header (or a ``code`` field of the body) and the message from the body's ``message`` /
``Message``; its ``JSONParser`` (Textract, JSON 1.1) reads the body's ``__type`` first. The client then raises the
modelled exception class of that name (``client.exceptions.ThrottlingException``), or a plain ``ClientError`` for
codes the service model does not list. Status codes are the ones in botocore's ``service-2.json`` of each service,
or, where the model gives none (Textract), the ones of the service's API reference.
"""

from __future__ import annotations

import json
from typing import Any

#: Bedrock Runtime (``bedrock-runtime``, 2023-09-30): error code -> HTTP status.
BEDROCK_ERRORS: dict[str, int] = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "ServiceQuotaExceededException": 400,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}

#: SageMaker Runtime (``sagemaker-runtime``, 2017-05-13): error code -> HTTP status. ``ThrottlingException`` is not
#: in the service model (botocore raises a plain ``ClientError`` with that code, and retries it as throttling).
SAGEMAKER_ERRORS: dict[str, int] = {
    "ValidationError": 400,
    "ModelError": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
    "InternalDependencyException": 530,
}

#: Textract (``textract``, 2018-06-27, JSON 1.1): error code -> HTTP status as in the API reference (the botocore
#: model states none). ``SerializationException`` is the JSON protocol's answer to a body that is not JSON.
TEXTRACT_ERRORS: dict[str, int] = {
    "InvalidParameterException": 400,
    "InvalidS3ObjectException": 400,
    "UnsupportedDocumentException": 400,
    "DocumentTooLargeException": 400,
    "BadDocumentException": 400,
    "InvalidJobIdException": 400,
    "IdempotentParameterMismatchException": 400,
    "ProvisionedThroughputExceededException": 400,
    "LimitExceededException": 400,
    "AccessDeniedException": 400,
    "SerializationException": 400,
    "UnknownOperationException": 400,
    "ThrottlingException": 500,
    "InternalServerError": 500,
}

SERVICE_ERRORS: dict[str, dict[str, int]] = {
    "bedrock": BEDROCK_ERRORS,
    "sagemaker": SAGEMAKER_ERRORS,
    "textract": TEXTRACT_ERRORS,
}
#: The member that carries the message in each service's error shapes.
_MESSAGE_KEY = {"bedrock": "message", "sagemaker": "Message", "textract": "Message"}
#: Services of the JSON 1.1 protocol, whose error bodies name the code in ``__type``.
_JSON_RPC = frozenset({"textract"})


class ServiceError(Exception):
    """An error answer of a stand-in: HTTP status, error code, message and extra members of the error shape."""

    def __init__(self, service: str, code: str, message: str, **members: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.service = service
        self.code = code
        self.status = SERVICE_ERRORS[service].get(code, 400)
        self.message = message
        self.members = members

    def body(self) -> bytes:
        head = {"__type": self.code} if self.service in _JSON_RPC else {}
        return json.dumps({**head, _MESSAGE_KEY[self.service]: self.message, **self.members}).encode()


def bedrock_error(code: str, message: str, **members: Any) -> ServiceError:
    return ServiceError("bedrock", code, message, **members)


def sagemaker_error(code: str, message: str, **members: Any) -> ServiceError:
    return ServiceError("sagemaker", code, message, **members)


def textract_error(code: str, message: str, **members: Any) -> ServiceError:
    return ServiceError("textract", code, message, **members)
