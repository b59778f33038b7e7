"""The SageMaker Runtime ``InvokeEndpoint`` stand-in: the project's ``model.tar.gz`` behind the service's API.

The endpoint's model is the classifier artifact served as the SageMaker scikit-learn container serves it
(:class:`docproc_local.classifier.artifact.ServedModel`: ``code/inference.py``'s ``input_fn -> predict_fn ->
output_fn``). This module adds what the *service* does around the container: the endpoint-name check, the payload
limit, and the error shapes. A container answer other than 2xx becomes ``ModelError`` (HTTP 424) with
``OriginalStatusCode`` and ``OriginalMessage``, as SageMaker reports a model container's own errors.
"""

from __future__ import annotations

import re
from typing import Protocol

from docproc_local.standins.errors import ServiceError, sagemaker_error

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
ACCOUNT_ID = "000000000000"
REGION = "us-east-1"

_ENDPOINT_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


class ContainerAnswer(Protocol):
    status: int
    body: bytes


class EndpointModel(Protocol):
    """What serves an endpoint: one request in, the container's status and body out."""

    def invoke(self, body: bytes, content_type: str | None, accept: str | None = ...) -> ContainerAnswer: ...


def check_request(endpoint_name: str, body: bytes, *, endpoints: frozenset[str] | None = None) -> None:
    """The service's own validation, before the container sees the request."""
    if not _ENDPOINT_NAME_RE.match(endpoint_name):
        raise sagemaker_error(
            "ValidationError",
            f"1 validation error detected: Value '{endpoint_name}' at 'endpointName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*",
        )
    if endpoints is not None and endpoint_name not in endpoints:
        raise sagemaker_error("ValidationError", f"Endpoint {endpoint_name} of account {ACCOUNT_ID} not found.")
    if len(body) > MAX_PAYLOAD_BYTES:
        raise sagemaker_error("ValidationError", f"Request payload is larger than {MAX_PAYLOAD_BYTES} bytes.")


def model_error(endpoint_name: str, status: int, message: str) -> ServiceError:
    log_group = f"/aws/sagemaker/Endpoints/{endpoint_name}"
    return sagemaker_error(
        "ModelError",
        f'Received client error ({status}) from primary with message "{message}". See '
        f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}#logEventViewer:group={log_group} "
        f"in account {ACCOUNT_ID} for more information.",
        OriginalStatusCode=status,
        OriginalMessage=message,
        LogStreamArn=f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{log_group}",
    )


def invoke(
    model: EndpointModel,
    endpoint_name: str,
    body: bytes,
    content_type: str | None,
    accept: str | None,
) -> bytes:
    """The response body of a checked InvokeEndpoint call, or the ``ModelError`` the service would answer."""
    answer = model.invoke(body, content_type, accept)
    if not 200 <= answer.status < 300:
        raise model_error(endpoint_name, answer.status, answer.body.decode("utf-8", errors="replace")[:1000])
    return answer.body
