"""``docproc evaluate``: every matcher, the choice of matcher from the class schema, objects and list assignment."""

from __future__ import annotations

import pytest

from docproc import classes
from docproc_local.evaluation.matching import (
    FieldSpec,
    field_spec,
    fold,
    identifier_key,
    kind_for,
    match_list,
    match_object,
    match_value,
    parse_date,
    parse_number,
    ratio,
    strip_legal_form,
)

# --- normalisation -------------------------------------------------------------------------------------------------


def test_fold_normalises_unicode_case_accents_punctuation_and_whitespace() -> None:
    assert fold("  Müller,\u00a0Jürgen\t(Dr.) ") == "muller jurgen dr"
    assert fold("\uff21\uff23\uff2d\uff25") == "acme"  # full-width letters, NFKC


def test_identifier_key_keeps_only_letters_and_digits() -> None:
    assert identifier_key("INV 001") == identifier_key("inv-001") == identifier_key("Inv/001") == "inv001"
    assert identifier_key("+1 (555) 010-2030") == "15550102030"


@pytest.mark.parametrize(
    ("name", "stripped"),
    [
        ("acme widgets gmbh", "acme widgets"),
        ("muller gmbh co kg", "muller"),
        ("globex l l c", "globex"),
        ("initech s a", "initech"),
        ("inc", "inc"),  # a lone token is kept
        ("the company store", "the company store"),  # only trailing legal forms go
    ],
)
def test_strip_legal_form(name: str, stripped: str) -> None:
    assert strip_legal_form(name) == stripped


@pytest.mark.parametrize(
    ("text", "number"),
    [(1190, 1190.0), ("1,190.00", 1190.0), ("1.190,00", 1190.0), ("EUR 12,5", 12.5), ("$1,190", 1190.0),
     ("-3.5", -3.5), ("n/a", None), (True, None), (None, None)],
)  # fmt: skip
def test_parse_number(text: object, number: float | None) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize(
    ("text", "parts"),
    [("2024-03-01", (2024, 3, 1)), ("2024-03", (2024, 3)), ("2024", (2024,)), (2024, (2024,)),
     ("2024/3/1", (2024, 3, 1)), ("2024-03-01T10:15:00Z", (2024, 3, 1)), ("01.03.2024", None),
     ("2024-13-01", None), ("present", None)],
)  # fmt: skip
def test_parse_date(text: object, parts: tuple[int, ...] | None) -> None:
    assert parse_date(text) == parts


# --- scalar matchers -----------------------------------------------------------------------------------------------


def test_exact_ignores_case_width_and_whitespace_only() -> None:
    assert match_value("exact", "EUR", " eur ").passed
    assert match_value("exact", "female", "FEMALE").passed
    result = match_value("exact", "EUR", "USD")
    assert not result.passed
    assert result.detail == "expected EUR, got USD"
    assert not match_value("exact", "INV-001", "INV 001").passed  # punctuation counts for plain exact


def test_identifier_ignores_spaces_and_punctuation_but_not_characters() -> None:
    assert match_value("identifier", "INV 001", "INV-001").passed
    assert match_value("identifier", "RE-2024-0815", "re 2024 0815").passed
    assert not match_value("identifier", "INV-001", "INV-0010").passed
    assert not match_value("identifier", "INV-001", "").passed


@pytest.mark.parametrize(
    ("expected", "predicted", "passed"),
    [
        (1000, 1005, True),  # 0.5 % of 1000 = 5
        (1000, 994.9, False),
        (1.0, 1.01, True),  # 0.01 absolute beats 0.5 % of 1
        (1.0, 1.011, False),
        (0, 0.01, True),
        (352583000000, 352583000000.0 * 1.004, True),
        (1190.0, "1.190,00", True),
        (1190.0, "about a thousand", False),
        (1190.0, True, False),
    ],
)
def test_numeric_tolerance(expected: float, predicted: object, passed: bool) -> None:
    assert match_value("numeric", expected, predicted).passed is passed


@pytest.mark.parametrize(
    ("expected", "predicted", "passed"),
    [
        ("2024-03-01", "2024-03-01", True),
        ("2024-03-01", "2024-03-02", False),
        ("2024-03-01", "2024/03/01", True),
        ("2024-03", "2024-03-15", True),  # compared at the expected precision
        ("2024", "2024-12-31", True),
        ("2024-03-15", "2024-03", False),  # less precise than expected
        ("2024-03-01", "01.03.2024", False),
        ("present", "Present", True),  # not a date on the expected side: exact
        ("present", "2024", False),
    ],
)
def test_date_matching(expected: str, predicted: str, passed: bool) -> None:
    assert match_value("date", expected, predicted).passed is passed


def test_date_mismatch_explains_missing_precision() -> None:
    assert match_value("date", "2024-03-15", "2024-03").detail == (
        "expected 2024-03-15, got 2024-03 (less precise than expected)"
    )


def test_fuzzy_threshold_and_token_order() -> None:
    assert ratio("john smith", "john smith") == 1.0
    assert match_value("fuzzy", "Smith, John", "John Smith").passed  # token sort
    assert match_value("fuzzy", "Jürgen Müller", "Jurgen Muller").passed  # accents
    # "two (2) years" vs "two years": SequenceMatcher 2*9/(11+9) = 0.9
    assert round(match_value("fuzzy", "two (2) years", "two years").similarity, 3) == 0.9
    near = match_value("fuzzy", "Anna Schmidt", "Jo Schmidt")
    assert not near.passed
    assert round(near.similarity, 3) == 0.727
    # no token-set ratio: a subset of the words is not a match
    assert not match_value("fuzzy", "Acme", "Acme Widgets International").passed


def test_name_matcher_drops_legal_forms_that_fuzzy_keeps() -> None:
    assert match_value("name", "Acme Corp.", "ACME Corporation").passed
    assert match_value("name", "Kessler Haustechnik GmbH", "Kessler Haustechnik").passed
    assert not match_value("fuzzy", "Acme Corp.", "ACME Corporation").passed  # 2*9/(9+16) = 0.72
    assert not match_value("name", "Acme GmbH", "Apex GmbH").passed


def test_missing_or_structured_prediction_fails() -> None:
    assert match_value("fuzzy", "Acme", None).detail == "expected Acme, got nothing"
    assert not match_value("fuzzy", "Acme", {"name": "Acme"}).passed
    with pytest.raises(ValueError, match="unknown matcher"):
        match_value("soundex", "a", "a")


# --- matcher from the class schema ---------------------------------------------------------------------------------


def test_kind_for_the_bundled_classes() -> None:
    config = classes.load()

    def kind(class_name: str, name: str) -> str:
        spec = field_spec(name, config.get(class_name).schema["properties"][name])
        return spec.kind

    assert kind("invoice", "invoice_number") == "identifier"
    assert kind("invoice", "purchase_order") == "identifier"
    assert kind("invoice", "issue_date") == "date"
    assert kind("invoice", "total") == "numeric"
    assert kind("invoice", "currency") == "exact"  # pattern
    assert kind("invoice", "issuer") == "name"
    assert kind("clinical_note", "patient_sex") == "exact"  # enum
    assert kind("clinical_note", "patient_name") == "fuzzy"
    assert kind("contract", "term") == "fuzzy"
    assert kind("resume", "email") == "identifier"
    assert kind("form", "form_year") == "date"
    assert kind("letter", "recipients") == "fuzzy"
    assert kind("letter", "purpose") == "words"
    assert kind("contract", "contract_type") == "words"
    assert kind("report", "topics") == "words"
    assert field_spec("dates", config.get("other").schema["properties"]["dates"]) == FieldSpec("date", is_list=True)
    employers = field_spec("employers", config.get("resume").schema["properties"]["employers"])
    assert (employers.kind, employers.key) == ("object", "name")
    assert {m: s.kind for m, s in employers.members.items()} == {
        "name": "name",
        "title": "fuzzy",
        "start": "date",
        "end": "date",
    }
    assert field_spec("filled_fields", config.get("form").schema["properties"]["filled_fields"]).key == "label"
    line_items = field_spec("line_items", config.get("invoice").schema["properties"]["line_items"])
    assert line_items.key == "description"
    assert line_items.members["quantity"].kind == "numeric"


@pytest.mark.parametrize(
    ("expected", "predicted", "passed"),
    [
        ("Consulting agreement", "consulting agreement", True),  # fuzzy already passes
        ("consulting", "Consulting Agreement", True),
        ("notice of termination of membership", "termination of the gym membership", True),  # 2 of its 3 words
        ("Non-disclosure agreement", "NDA", False),
        ("balance sheet", "income statement", False),
    ],
)
def test_words_matcher_for_descriptions(expected: str, predicted: str, passed: bool) -> None:
    assert match_value("words", expected, predicted).passed is passed


def test_override_replaces_the_matcher() -> None:
    assert field_spec("term", {"type": "string"}, "exact").kind == "exact"
    assert field_spec("skills", {"type": "array", "items": {"type": "string"}}, "exact") == FieldSpec(
        "exact", is_list=True
    )
    schema = {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}
    assert field_spec("parties", schema, "exact").members["name"].kind == "exact"
    assert kind_for("role", {"type": "string"}, parent="parties") == "fuzzy"


# --- objects and lists ---------------------------------------------------------------------------------------------

LINE_ITEM = FieldSpec(
    kind="object",
    is_list=True,
    key="description",
    members={
        "description": FieldSpec("fuzzy"),
        "quantity": FieldSpec("numeric"),
        "unit_price": FieldSpec("numeric"),
        "amount": FieldSpec("numeric"),
    },
)
EXPECTED_ITEM = {"description": "Wartung Heizungsanlage", "quantity": 1, "unit_price": 1000.0, "amount": 1000.0}


def test_object_matches_on_key_and_at_least_half_of_the_other_fields() -> None:
    # 2 of the 3 other fields right: a match, with the difference explained
    two_of_three = match_object(LINE_ITEM, EXPECTED_ITEM, {**EXPECTED_ITEM, "quantity": 2})
    assert two_of_three.passed
    assert two_of_three.detail == "matched; differs in quantity: expected 1, got 2"
    # 1 of 3 (the others missing): no match
    one_of_three = match_object(LINE_ITEM, EXPECTED_ITEM, {"description": "Wartung Heizungsanlage", "amount": 1000})
    assert not one_of_three.passed
    # the key field wrong: no match even with every amount right
    wrong_key = match_object(LINE_ITEM, EXPECTED_ITEM, {**EXPECTED_ITEM, "description": "Anfahrt"})
    assert not wrong_key.passed
    assert wrong_key.detail.startswith("description: expected Wartung Heizungsanlage, got Anfahrt")
    # extra predicted fields are ignored; a key-only expectation needs only the key
    assert match_object(LINE_ITEM, {"description": "Anfahrt"}, {"description": "anfahrt", "amount": 5}).passed
    assert not match_object(LINE_ITEM, EXPECTED_ITEM, "Wartung Heizungsanlage").passed


def test_party_with_one_other_field_needs_it() -> None:
    parties = FieldSpec("object", True, "name", {"name": FieldSpec("name"), "role": FieldSpec("fuzzy")})
    expected = {"name": "Aduro Biotech, Inc.", "role": "Company"}
    assert match_object(parties, expected, {"name": "Aduro Biotech", "role": "company"}).passed
    assert not match_object(parties, expected, {"name": "Aduro Biotech", "role": "Consultant"}).passed


def test_list_assignment_beats_greedy_matching() -> None:
    # GIVEN similarities A-X 0.96, A-Y 0.917, B-X 0.88 (all pass) and B-Y 0.833 (fails)
    spec = FieldSpec("fuzzy", is_list=True)
    expected = ["Anna Schmidt", "Anna Schmitt"]
    predicted = ["Hanna Schmidt", "Anne Schmidt"]
    assert round(match_value("fuzzy", expected[0], predicted[0]).similarity, 3) == 0.96
    assert not match_value("fuzzy", expected[1], predicted[1]).passed
    # WHEN matched one-to-one
    result = match_list(spec, expected, predicted)
    # THEN greedy (A-X first, leaving B-Y) would give 1 TP; the assignment gives 2
    assert sorted((e, p) for e, p, _ in result.pairs) == [(0, 1), (1, 0)]
    assert result.true_positives == 2
    assert result.unmatched_expected == result.unmatched_predicted == ()


def test_list_assignment_prefers_passing_pairs_to_total_similarity() -> None:
    # A-X 0.727 + B-Y 0.833 = 1.560 (no pass) beats A-Y 0.917 + B-X 0.636 = 1.553 (one pass) on similarity alone
    result = match_list(FieldSpec("fuzzy", True), ["Anna Schmidt", "Anna Schmitt"], ["Jo Schmidt", "Anne Schmidt"])
    assert result.true_positives == 1
    assert (0, 1) in {(e, p) for e, p, _ in result.pairs}
    assert result.predicted_correct(1)
    assert not result.predicted_correct(0)


def test_list_with_extra_and_missing_items() -> None:
    result = match_list(
        LINE_ITEM,
        [EXPECTED_ITEM, {"description": "Anfahrt", "amount": 45.0}],
        [{"description": "Anfahrtspauschale Techniker", "amount": 45.0}, EXPECTED_ITEM, {"description": "Rabatt"}],
    )
    assert result.true_positives == 1
    assert len(result.pairs) == 2
    assert len(result.unmatched_predicted) == 1
    assert match_list(LINE_ITEM, [], [EXPECTED_ITEM]).unmatched_predicted == (0,)
    assert match_list(LINE_ITEM, [EXPECTED_ITEM], []).unmatched_expected == (0,)
