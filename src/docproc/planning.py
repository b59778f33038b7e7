"""Once a document's text is final (after prepare, or after OCR): its route and its content-cache key.

Both depend only on the prepared document and the deployment's settings, so prepare and the OCR step call the same
:func:`plan` and a scan is routed on its OCR'd text.
"""

from __future__ import annotations

from datetime import UTC, datetime

from docproc import cache, classes, errors, routing
from docproc.extraction import PROMPT_VERSION
from docproc.models import PreparedDocument
from docproc.settings import Settings


def cache_settings(settings: Settings) -> cache.CacheSettings:
    return cache.CacheSettings(
        ttl_days=settings.cache_ttl_days,
        max_model_input_chars=settings.max_model_input_chars,
        prompt_version=PROMPT_VERSION,
        classifier_endpoint=settings.classifier_endpoint_name,
        classifier_model_data_uri=settings.classifier_model_data_uri,
        classifier_request_format=settings.classifier_request_format,
    )


def plan(prepared: PreparedDocument, settings: Settings) -> PreparedDocument:
    """``prepared`` with ``route`` and (cache on) ``cacheKey``; a broken rules file fails it as CONFIG_INVALID."""
    try:
        rules = routing.load()
    except routing.RouteConfigError as exc:
        raise errors.ConfigurationInvalid(str(exc)) from exc
    models = routing.Models(default=settings.bedrock_model_id, small=settings.small_bedrock_model_id)
    routed = prepared.model_copy(update={"route": routing.choose(prepared, rules, models)})
    options = cache_settings(settings)
    if not options.enabled:
        return routed
    try:
        key = cache.key_for(routed, options)
    except classes.ClassConfigError as exc:
        raise errors.ConfigurationInvalid(str(exc)) from exc
    planned_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return routed.model_copy(update={"cache_key": key, "planned_at": planned_at})
