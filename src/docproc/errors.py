"""Named domain exceptions.

The state machine's ``Retry`` and ``Catch`` match these by *class name* (Lambda reports the class name as
``errorType``), so the names are part of the contract with ``statemachine/document_pipeline.asl.json``:

* subclasses of :class:`TransientError` are listed once in the ASL's retry policy and retried with
  backoff and jitter; when retries run out the document is requeued through SQS with a delay;
* subclasses of :class:`PermanentError` are never retried: the document fails at once with the
  class's ``reason_code``.

Never match on message text; add a class instead.
"""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    """Why a document (or one branch of it) did not complete. Stable: subscribers switch on these."""

    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    EMPTY_DOCUMENT = "EMPTY_DOCUMENT"
    CORRUPT_DOCUMENT = "CORRUPT_DOCUMENT"
    ENCRYPTED_DOCUMENT = "ENCRYPTED_DOCUMENT"
    DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
    DOCUMENT_TOO_COMPLEX = "DOCUMENT_TOO_COMPLEX"
    NO_TEXT_CONTENT = "NO_TEXT_CONTENT"
    SOURCE_NOT_FOUND = "SOURCE_NOT_FOUND"
    MODEL_OUTPUT_INVALID = "MODEL_OUTPUT_INVALID"
    MODEL_REQUEST_INVALID = "MODEL_REQUEST_INVALID"
    CONFIG_INVALID = "CONFIG_INVALID"
    OCR_FAILED = "OCR_FAILED"
    GUARDRAIL_INTERVENED = "GUARDRAIL_INTERVENED"
    RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class DocprocError(Exception):
    """Base of every error the pipeline raises on purpose."""

    reason_code: ReasonCode = ReasonCode.INTERNAL_ERROR
    retryable: bool = False


# --- permanent: the same input will fail the same way, so fail at once --------------------------------------------


class PermanentError(DocprocError):
    retryable = False


class UnsupportedDocumentType(PermanentError):
    reason_code = ReasonCode.UNSUPPORTED_TYPE


class EmptyDocument(PermanentError):
    reason_code = ReasonCode.EMPTY_DOCUMENT


class CorruptDocument(PermanentError):
    reason_code = ReasonCode.CORRUPT_DOCUMENT


class EncryptedDocument(PermanentError):
    reason_code = ReasonCode.ENCRYPTED_DOCUMENT


class DocumentTooLarge(PermanentError):
    reason_code = ReasonCode.DOCUMENT_TOO_LARGE


class DocumentTooComplex(PermanentError):
    """Nested or self-expanding past what a parser allows (JSON or XML thousands of levels deep, entity expansion,
    a PDF page tree past pypdf's depth limit): it fails the same way every time, so it is never retried."""

    reason_code = ReasonCode.DOCUMENT_TOO_COMPLEX


class NoTextContent(PermanentError):
    """The file parsed, but holds no extractable text (a scanned image without a text layer, say)."""

    reason_code = ReasonCode.NO_TEXT_CONTENT


class SourceObjectNotFound(PermanentError):
    reason_code = ReasonCode.SOURCE_NOT_FOUND


class ModelOutputInvalid(PermanentError):
    """The model's answer failed schema validation, also after the repair attempt."""

    reason_code = ReasonCode.MODEL_OUTPUT_INVALID


class ModelRequestInvalid(PermanentError):
    """The model rejected the request itself (validation error, unknown model or endpoint, access denied)."""

    reason_code = ReasonCode.MODEL_REQUEST_INVALID


# --- transient: worth another try later ----------------------------------------------------------------------------


class ConfigurationInvalid(PermanentError):
    """A configuration file deployed with the stack (document classes) is invalid: fix it and reprocess."""

    reason_code = ReasonCode.CONFIG_INVALID


class OcrFailed(PermanentError):
    """Textract could not read the document (unsupported, corrupt or too large for it, or the job failed)."""

    reason_code = ReasonCode.OCR_FAILED


class GuardrailIntervened(PermanentError):
    """The Bedrock guardrail (GuardrailId) blocked the document or the model's answer: the same text meets the same
    guardrail again, so the extraction branch ends partial at once (the classifier's result is kept)."""

    reason_code = ReasonCode.GUARDRAIL_INTERVENED


class TransientError(DocprocError):
    retryable = True


class ModelThrottled(TransientError):
    """Bedrock or SageMaker answered 429 / ThrottlingException."""


class ModelUnavailable(TransientError):
    """The model service answered 5xx or the endpoint is not ready."""


class ModelTimeout(TransientError):
    """The call to the model timed out or the connection failed."""


class StorageThrottled(TransientError):
    """S3 SlowDown / 503, or DynamoDB throttling."""


#: Error names the state machine retries (kept in step with the ASL by tests/unit/test_statemachine.py).
TRANSIENT_ERROR_NAMES: tuple[str, ...] = tuple(
    cls.__name__ for cls in (ModelThrottled, ModelUnavailable, ModelTimeout, StorageThrottled)
)
PERMANENT_ERROR_NAMES: tuple[str, ...] = tuple(
    cls.__name__
    for cls in (
        UnsupportedDocumentType,
        EmptyDocument,
        CorruptDocument,
        EncryptedDocument,
        DocumentTooLarge,
        DocumentTooComplex,
        NoTextContent,
        SourceObjectNotFound,
        ModelOutputInvalid,
        ConfigurationInvalid,
        ModelRequestInvalid,
        OcrFailed,
        GuardrailIntervened,
    )
)


#: Python's own exceptions that the same input raises the same way every time, whichever step they escape from:
#: permanent on the first attempt (a ``MemoryError`` is Python failing an allocation at the function's fixed
#: memory size; an out-of-memory *kill* is ``Runtime.ExitError``, indistinguishable from a crash, so transient).
DETERMINISTIC_BUILTIN_ERRORS: dict[str, ReasonCode] = {
    "RecursionError": ReasonCode.DOCUMENT_TOO_COMPLEX,
    "MemoryError": ReasonCode.DOCUMENT_TOO_LARGE,
}


def reason_for_error_name(error_name: str) -> tuple[ReasonCode, bool]:
    """Map an ASL error name (``$.error.Error``) to ``(reason code, retryable)``.

    Unknown names (``States.Timeout``, ``Lambda.ServiceException``, a crash's ``Runtime.ExitError`` …) are
    treated as transient: another attempt is cheap, and the attempt bound keeps it finite.
    """
    if error_name in DETERMINISTIC_BUILTIN_ERRORS:
        return DETERMINISTIC_BUILTIN_ERRORS[error_name], False
    cls = error_class(error_name)
    if cls is None:
        return ReasonCode.INTERNAL_ERROR, True
    return cls.reason_code, cls.retryable


def error_class(error_name: str) -> type[DocprocError] | None:
    """The domain error class with this name (the ``errorType`` Lambda reports), if there is one."""
    pending: list[type[DocprocError]] = [DocprocError]
    while pending:
        cls = pending.pop()
        if cls.__name__ == error_name:
            return cls
        pending.extend(cls.__subclasses__())
    return None
