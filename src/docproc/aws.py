"""boto3 clients built lazily (never at import time) and cached per process, plus AWS error translation.

Model clients make exactly one attempt: throttling and 5xx surface at once as named domain errors, so the
state machine owns the retry policy (backoff with jitter) instead of hidden SDK retries.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ParamValidationError, ReadTimeoutError

from docproc import errors

_MODEL_CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60)
_STORAGE_CONFIG = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5, read_timeout=30)
_MODEL_SERVICES = {"bedrock-runtime", "sagemaker-runtime"}


@cache
def client(service: str) -> Any:
    """A cached boto3 client; endpoints come from the standard settings (``AWS_ENDPOINT_URL_<SERVICE>``)."""
    return boto3.client(service, config=_MODEL_CONFIG if service in _MODEL_SERVICES else _STORAGE_CONFIG)


_THROTTLED = {
    "ThrottlingException",
    "TooManyRequestsException",
    "Throttling",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "ServiceQuotaExceededException",
}
_UNAVAILABLE = {
    "InternalServerException",
    "ServiceUnavailableException",
    "ServiceUnavailable",
    "InternalFailure",
    "ModelNotReadyException",
    "ModelError",
    "ModelStreamErrorException",
    "InternalError",
}
_MODEL_TIMEOUT = {"ModelTimeoutException"}
_REQUEST_INVALID = {"ValidationException", "ValidationError", "AccessDeniedException", "ResourceNotFoundException"}


def model_error(exc: Exception, what: str) -> errors.DocprocError:
    """Translate a Bedrock / SageMaker client failure into the domain error the state machine matches on."""
    if isinstance(exc, ParamValidationError):
        return errors.ModelRequestInvalid(f"{what}: invalid request: {exc}")
    if isinstance(exc, ReadTimeoutError | ConnectionError):
        return errors.ModelTimeout(f"{what}: {type(exc).__name__}")
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = f"{what}: {code} ({status})"
        if code in _THROTTLED or status == 429:
            return errors.ModelThrottled(message)
        original = _original_status(exc)
        if code == "ModelError" and 400 <= original < 500 and original not in (408, 429):
            # the model container refused this request (empty text, wrong content type ...): it will refuse it
            # again the same way, so it is permanent, unlike a container that failed (5xx)
            return errors.ModelRequestInvalid(f"{message}: the model answered {original}: {_original_message(exc)}")
        if code in _MODEL_TIMEOUT or status == 408:
            return errors.ModelTimeout(message)
        if code in _UNAVAILABLE or status >= 500 or status == 424:
            return errors.ModelUnavailable(message)
        if code in _REQUEST_INVALID or 400 <= status < 500:
            return errors.ModelRequestInvalid(f"{message}: {exc.response.get('Error', {}).get('Message', '')}")
    return errors.ModelUnavailable(f"{what}: {type(exc).__name__}")


def _original_status(exc: ClientError) -> int:
    """``OriginalStatusCode`` of a SageMaker ``ModelError``: the model container's own HTTP status (0 if absent)."""
    value = exc.response.get("OriginalStatusCode", exc.response.get("Error", {}).get("OriginalStatusCode", 0))
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _original_message(exc: ClientError) -> str:
    return str(exc.response.get("OriginalMessage", exc.response.get("Error", {}).get("OriginalMessage", "")))[:300]


#: What a model call may raise that :func:`model_error` translates; anything else is a bug and propagates.
MODEL_CALL_ERRORS = (ClientError, BotoCoreError)


def storage_error(exc: ClientError, what: str) -> Exception:
    """Translate an S3 failure: missing objects are permanent, slow-downs transient, anything else re-raised."""
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in {"NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404"} or status == 404:
        return errors.SourceObjectNotFound(f"{what}: {code or status}")
    if code in _THROTTLED or code in {"SlowDown", "RequestTimeout"} or status in {500, 503}:
        return errors.StorageThrottled(f"{what}: {code or status}")
    return exc
