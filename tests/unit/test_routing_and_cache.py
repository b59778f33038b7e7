"""Routing rules (config/routes.yaml), the language hint, the content-cache key and merge's hit and miss records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from docproc import cache, language, routing
from docproc.merge import MergeInput, merge
from docproc.models import PreparedDocument, Route
from docproc.records import from_item

from helpers import classification_result, extraction_result, merge_input, prepared_document

ARTIFACTS = "docproc-artifacts"
MODELS = routing.Models(default="anthropic.claude-3-haiku-20240307-v1:0", small="amazon.nova-lite-v1:0")


def prepared(**text: Any) -> PreparedDocument:
    value = prepared_document()
    value["text"].update(text)
    return PreparedDocument.model_validate(value)


# --- routing -------------------------------------------------------------------------------------------------------


def test_the_bundled_rules_send_short_documents_to_the_small_model() -> None:
    rules = routing.load()
    short = routing.choose(prepared(chars=1834, pages=1), rules, MODELS)
    long = routing.choose(prepared(chars=40_000, pages=12), rules, MODELS)
    assert (short.name, short.model_id) == ("small-documents", "amazon.nova-lite-v1:0")
    assert (long.name, long.model_id) == ("default", "anthropic.claude-3-haiku-20240307-v1:0")
    assert short.rules_version == rules.version


def test_first_match_wins_and_every_condition_must_hold() -> None:
    rules = routing.parse(
        """
version: "1"
routes:
  - name: german-scans
    when: {languages: [de], ocr: true}
    classification_only: true
  - name: invoices-folder
    when: {key_prefixes: ["incoming/"], formats: [pdf], max_bytes: 200000}
    model: small
  - name: everything
    model: default
"""
    )
    german = prepared(language="de")
    assert routing.choose(german, rules, MODELS).name == "invoices-folder"  # not OCR'd: the first rule fails
    scanned = german.model_copy(update={"ocr": {"mode": "sync", "pages": [1], "meanConfidence": 90, "reason": "x"}})
    decided = routing.choose(scanned, rules, MODELS)
    assert (decided.name, decided.classification_only, decided.model_id) == ("german-scans", True, None)
    big = prepared().model_copy(update={"source": prepared().source.model_copy(update={"size": 300_000})})
    assert routing.choose(big, rules, MODELS).name == "everything"


def test_no_matching_rule_takes_the_default_model_and_no_small_model_means_the_default() -> None:
    rules = routing.parse('version: "1"\nroutes:\n  - name: only-xlsx\n    when: {formats: [xlsx]}\n    model: small\n')
    assert routing.choose(prepared(), rules, MODELS) == Route(
        name="default", model_id=MODELS.default, rules_version="1"
    )
    assert routing.Models(default="big").resolve("small") == "big"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: '1'\nroutes: []\n", "routes: Tuple should have at least 1 item"),
        ("version: '1'\nroutes:\n  - name: a\n", "route 1 ('a'): give exactly one action"),
        ("version: '1'\nroutes:\n  - name: a\n    model: huge\n", "route 1 ('a'): model: Input should be 'default'"),
        (
            "version: '1'\nroutes:\n  - name: a\n    when: {formats: [pdff]}\n    model: small\n",
            "unknown format(s) ['pdff']",
        ),
        (
            "version: '1'\nroutes:\n  - name: a\n    when: {max_chars: 1, min_chars: 5}\n    model: small\n",
            "min_chars (5) is over",
        ),
        ("version: '1'\nroutes:\n  - name: a\n    when: {pages: 3}\n    model: small\n", "when/pages: Extra inputs"),
        ("version: '1'\nroutes:\n  - {name: a, model: small}\n  - {name: a, model: default}\n", "unique: ['a']"),
        ("version: '1'\nroutes:\n  - name: a\n    when: {languages: [english]}\n    model: small\n", "ISO 639-1"),
        ("routes: [\n", "not valid YAML"),
    ],
)
def test_a_bad_rules_file_names_the_rule_and_field(text: str, message: str) -> None:
    with pytest.raises(routing.RouteConfigError) as raised:
        routing.parse(text, "routes.yaml")
    assert str(raised.value).startswith("routes.yaml: ")
    assert message in str(raised.value)


# --- language ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The tenant shall pay the rent on the first day of each month and is responsible for the repairs.", "en"),
        ("Der Mieter zahlt die Miete am ersten Tag des Monats und ist für die Reparaturen nicht zuständig.", "de"),
        (
            "Le locataire paie le loyer le premier jour du mois et il est responsable des réparations dans la maison.",
            "fr",
        ),
        ("El inquilino paga el alquiler el primer día del mes y es responsable de las reparaciones de la casa.", "es"),
        ("Арендатор оплачивает аренду в первый день каждого месяца и отвечает за ремонт квартиры.", "ru"),
        ("借款人应在每月第一天支付租金，并负责房屋的维修。借款人应在每月第一天支付租金。", "zh"),  # noqa: RUF001
        ("借主は毎月一日に家賃を支払い、家の修理について責任を負うものとします。", "ja"),
        ("يدفع المستأجر الإيجار في اليوم الأول من كل شهر وهو مسؤول عن إصلاحات المنزل.", "ar"),
        ("השוכר ישלם את שכר הדירה ביום הראשון של כל חודש ויהיה אחראי לתיקונים בבית.", "he"),
        ("Invoice 42183017 total 12.00 USD", None),  # too short to tell
    ],
)
def test_language_hint(text: str, code: str | None) -> None:
    assert language.detect(text) == code


# --- the cache key -------------------------------------------------------------------------------------------------


SETTINGS = cache.CacheSettings(ttl_days=30, max_model_input_chars=60_000, prompt_version="p1", classifier_endpoint="ep")


def routed(model: str = MODELS.default, sha: str = "a" * 64) -> PreparedDocument:
    return prepared(sha256=sha).model_copy(update={"route": Route(name="r", model_id=model)})


def test_the_key_changes_with_text_model_prompt_limit_classifier_and_class_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = cache.key_for(routed(), SETTINGS)
    assert cache.key_for(routed(), SETTINGS) == base  # stable
    others = [
        cache.key_for(routed(sha="b" * 64), SETTINGS),
        cache.key_for(routed(model=MODELS.small), SETTINGS),
        cache.key_for(routed(), SETTINGS.model_copy(update={"prompt_version": "p2"})),
        cache.key_for(routed(), SETTINGS.model_copy(update={"max_model_input_chars": 30_000})),
        cache.key_for(routed(), SETTINGS.model_copy(update={"classifier_model_data_uri": "s3://b/m2.tar.gz"})),
        cache.key_for(routed().model_copy(update={"route": Route(name="r", classification_only=True)}), SETTINGS),
    ]
    from docproc import classes

    edited = tmp_path / "classes.yaml"
    edited.write_text(classes.config_path().read_text() + "\n# an edit that keeps the version\n")
    monkeypatch.setenv(classes.CONFIG_ENV, str(edited))
    others.append(cache.key_for(routed(), SETTINGS))
    assert base not in others
    assert len(set(others)) == len(others)


def test_only_complete_results_are_cached() -> None:
    from docproc.models import ClassificationBranch, ExtractionBranch

    ok_x = ExtractionBranch.model_validate({"status": "SUCCEEDED", "result": extraction_result()})
    ok_c = ClassificationBranch.model_validate({"status": "SUCCEEDED", "result": classification_result()})
    cut_c = ClassificationBranch.model_validate(
        {"status": "SUCCEEDED", "result": classification_result(inputTruncated=True)}
    )
    failed = ExtractionBranch.model_validate({"status": "FAILED", "error": {"Error": "ModelOutputInvalid"}})
    skipped = ExtractionBranch(status="SKIPPED")
    assert cache.cacheable(ok_x, ok_c) and cache.cacheable(skipped, ok_c)
    assert not cache.cacheable(failed, ok_c)
    assert not cache.cacheable(ok_x, cut_c)
    item = cache.cache_item(
        "k", document_id="d", extraction=ok_x, classification=ok_c, model_usd=0.01, ttl_days=2, now=0
    )
    assert item is not None
    assert item["expiresAt"] == {"N": str(2 * 86400)}
    assert item["expires"] == {"S": "1970-01-03T00:00:00Z"}


# --- merge: miss and hit -------------------------------------------------------------------------------------------


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=ARTIFACTS)
    return client


def _event(**cached: Any) -> dict[str, Any]:
    event = merge_input()
    event["prepared"]["route"] = {"name": "small-documents", "modelId": "anthropic.claude-3-haiku-20240307-v1:0"}
    event["prepared"]["cacheKey"] = "f" * 64
    if cached:
        event["cached"] = cached
    return event


def test_a_miss_offers_the_complete_result_to_the_cache(s3: Any) -> None:
    output = merge(MergeInput.model_validate(_event()), s3=s3, artifacts_bucket=ARTIFACTS, cache_ttl_days=30)
    record = from_item(output.item)
    assert record["cache"] == {"status": "miss", "key": "f" * 64, "written": True}
    assert record["route"]["name"] == "small-documents"
    assert output.cache_item is not None and output.cache_item["cacheKey"] == {"S": "f" * 64}
    assert "cacheItem" not in output.model_dump(by_alias=True)  # never in the state payload
    assert output.event["cache"]["status"] == "miss"


def test_a_hit_costs_no_model_and_says_what_it_saved(s3: Any) -> None:
    miss = from_item(merge(MergeInput.model_validate(_event()), s3=s3, artifacts_bucket=ARTIFACTS).item)
    output = merge(
        MergeInput.model_validate(_event(hit=True, sourceDocumentId="doc-first")), s3=s3, artifacts_bucket=ARTIFACTS
    )
    record = from_item(output.item)
    assert output.cache_item is None
    assert record["cache"]["status"] == "hit"
    assert record["cache"]["sourceDocumentId"] == "doc-first"
    assert record["cost"]["breakdown"]["bedrock"] == record["cost"]["breakdown"]["sagemaker"] == 0
    assert record["cost"]["stateTransitions"] == 13
    assert record["cache"]["savedUsd"] > 0.9 * (
        miss["cost"]["breakdown"]["bedrock"] + miss["cost"]["breakdown"]["sagemaker"]
    )
    assert record["cost"]["totalUsd"] + record["cache"]["savedUsd"] == pytest.approx(miss["cost"]["totalUsd"], rel=0.05)
    assert "usage" not in record
    assert record["fields"] == miss["fields"]


def test_a_classification_only_route_is_complete_not_partial(s3: Any) -> None:
    event = merge_input(extraction={"status": "SKIPPED"})
    event["prepared"]["route"] = {"name": "classify-only", "classificationOnly": True}
    record = from_item(merge(MergeInput.model_validate(event), s3=s3, artifacts_bucket=ARTIFACTS).item)
    assert record["status"] == "COMPLETED"
    assert record["partial"] is False and "missing" not in record
    assert record["confidence"] == pytest.approx(0.8)
    assert record["cost"]["breakdown"]["bedrock"] == 0
    assert record["cost"]["stateTransitions"] == 14  # ExtractionWanted? -> ExtractionSkipped
