"""The deployed workflow: the ASL parses, every placeholder is substituted, the error lists match the code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from docproc import errors

REPO = Path(__file__).resolve().parents[2]
ASL_PATH = REPO / "statemachine" / "document_pipeline.asl.json"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (!Ref, !Sub, ...) as plain data."""


_CfnLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: {
        suffix: loader.construct_scalar(node)
        if isinstance(node, yaml.ScalarNode)
        else loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
    },
)


@pytest.fixture(scope="module")
def asl() -> dict[str, Any]:
    return json.loads(ASL_PATH.read_text())


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load((REPO / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def _states(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state, including those inside Parallel branches and Map item processors."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in asl["States"].items():
        found[name] = state
        for branch in [*state.get("Branches", []), *([state["ItemProcessor"]] if "ItemProcessor" in state else [])]:
            found.update(_states(branch))
    return found


def test_every_placeholder_has_a_substitution(asl: dict[str, Any], template: dict[str, Any]) -> None:
    placeholders = set(re.findall(r"\$\{(\w+)\}", ASL_PATH.read_text()))
    machine = template["Resources"]["DocumentPipeline"]["Properties"]
    assert machine["DefinitionUri"] == "statemachine/document_pipeline.asl.json"
    substitutions = set(machine["DefinitionSubstitutions"])
    assert placeholders, "the definition should reference its resources through placeholders"
    assert placeholders - substitutions == set(), "placeholders without a substitution"
    assert substitutions - placeholders == set(), "substitutions nothing uses"


def test_parallel_runs_extract_and_classify(asl: dict[str, Any]) -> None:
    analyse = asl["States"]["Analyse"]
    assert analyse["Type"] == "Parallel"
    starts = [branch["StartAt"] for branch in analyse["Branches"]]
    assert starts == ["ExtractionWanted?", "Classify"]
    assert analyse["Branches"][0]["States"]["ExtractionWanted?"]["Default"] == "Extract"
    assert asl["States"]["Prepare"]["Next"] == "NeedsOcr?"
    assert asl["States"]["NeedsOcr?"]["Default"] == "CacheOn?"
    assert asl["States"]["UseOcrText"]["Next"] == "CacheOn?"
    assert asl["States"]["CacheOn?"]["Default"] == "Analyse"
    assert analyse["Next"] == "Merge"


def test_every_transition_points_at_a_state(asl: dict[str, Any]) -> None:
    def check(machine: dict[str, Any]) -> None:
        names = set(machine["States"])
        assert machine["StartAt"] in names
        for state in machine["States"].values():
            targets = [state.get("Next"), state.get("Default")]
            targets += [c["Next"] for c in state.get("Catch", []) + state.get("Choices", [])]
            assert {t for t in targets if t} <= names
            for branch in state.get("Branches", []):
                check(branch)

    check(asl)


def test_lambda_tasks_retry_exactly_the_transient_errors(asl: dict[str, Any]) -> None:
    lambda_tasks = {n: s for n, s in _states(asl).items() if str(s.get("Resource", "")).endswith("FunctionArn}")}
    assert set(lambda_tasks) == {
        "Prepare",
        "StartOcr",
        "CheckOcr",
        "Extract",
        "ExtractChunk",
        "CombineChunks",
        "Classify",
        "Merge",
        "Triage",
    }
    retry_lists = {n: tuple(s["Retry"][0]["ErrorEquals"]) for n, s in lambda_tasks.items()}
    assert len(set(retry_lists.values())) == 1, f"retry lists differ between states: {retry_lists}"
    retried = set(next(iter(retry_lists.values())))
    assert set(errors.TRANSIENT_ERROR_NAMES) <= retried
    assert not retried & set(errors.PERMANENT_ERROR_NAMES), "permanent errors must never be retried"
    for state in lambda_tasks.values():
        policy = state["Retry"][0]
        assert policy["JitterStrategy"] == "FULL"
        assert policy["BackoffRate"] > 1


def test_branch_catches_exactly_the_permanent_errors(asl: dict[str, Any]) -> None:
    for branch in asl["States"]["Analyse"]["Branches"]:
        for state in branch["States"].values():
            if state["Type"] in ("Task", "Map"):
                assert set(state["Catch"][0]["ErrorEquals"]) == set(errors.PERMANENT_ERROR_NAMES), state
                assert state["Catch"][0]["Next"].endswith("Failed")


def test_ocr_waits_in_the_state_machine_and_checks_until_done(asl: dict[str, Any]) -> None:
    states = asl["States"]
    assert states["NeedsOcr?"]["Choices"] == [
        {"Variable": "$.prepared.ocrRequest", "IsPresent": True, "Next": "StartOcr"}
    ]
    assert states["StartOcr"]["Next"] == states["CheckOcr"]["Next"] == "OcrDone?"
    assert states["OcrDone?"]["Default"] == "WaitForOcr"
    assert states["WaitForOcr"]["Type"] == "Wait"
    assert states["WaitForOcr"]["Next"] == "CheckOcr"
    assert states["UseOcrText"] == {
        "Type": "Pass",
        "InputPath": "$.ocr.prepared",
        "ResultPath": "$.prepared",
        "Next": "CacheOn?",
    }
    for name in ("StartOcr", "CheckOcr"):
        assert states[name]["Catch"][0]["Next"] == "Triage"


def test_long_documents_are_extracted_in_a_bounded_map_of_references(asl: dict[str, Any]) -> None:
    branch = asl["States"]["Analyse"]["Branches"][0]["States"]
    assert branch["Extract"]["Next"] == "Chunked?"
    choice = branch["Chunked?"]
    assert choice["Choices"] == [{"Variable": "$.extracted.status", "StringEquals": "CHUNKED", "Next": "ExtractChunks"}]
    assert branch["ExtractionDone"]["OutputPath"] == "$.extracted"
    chunks = branch["ExtractChunks"]
    assert chunks["Type"] == "Map"
    assert chunks["MaxConcurrencyPath"] == "$.extracted.maxConcurrency"
    assert chunks["ItemSelector"]["chunk.$"] == "$$.Map.Item.Value"
    assert chunks["Next"] == "CombineChunks"
    assert branch["CombineChunks"]["Parameters"]["chunkResults.$"] == "$.chunkResults"


def test_every_path_releases_the_lease(asl: dict[str, Any]) -> None:
    """Back-pressure must never leak: every way to the Succeed state passes ReleaseLease."""
    states = asl["States"]
    assert [n for n, s in states.items() if s["Type"] in ("Succeed", "Fail")] == ["Done"]
    into_done = {
        n
        for n, s in states.items()
        if s.get("Next") == "Done" or any(c.get("Next") == "Done" for c in s.get("Catch", []))
    }
    assert into_done == {"ReleaseLease"}


def test_error_names_map_to_reason_codes(asl: dict[str, Any]) -> None:
    names = set(errors.PERMANENT_ERROR_NAMES + errors.TRANSIENT_ERROR_NAMES)
    for name in names:
        reason, retryable = errors.reason_for_error_name(name)
        assert retryable is (name in errors.TRANSIENT_ERROR_NAMES)
        assert reason in errors.ReasonCode
