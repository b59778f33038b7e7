"""The local domain classifier: a complement naive Bayes model trained in pure Python on the shipped corpus."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from pathlib import Path

import pytest

from docproc_local.classifier.evaluate import extract_text, flatten_json, html_to_text
from docproc_local.classifier.model import (
    LABELS,
    CorpusError,
    DomainClassifier,
    cross_validate,
    load_corpus,
    load_or_train,
)

from helpers import SAMPLE_DOMAINS

REALDOCS = Path(__file__).resolve().parents[3] / "shared" / "realdocs"


# Short texts written for this test (not in the corpus).
SHORT_TEXTS = [
    ("The lessee shall indemnify the lessor against all claims arising under this agreement.", "legal"),
    ("The appellate court affirmed the judgment and remanded for a new hearing on damages.", "legal"),
    ("Patient presents with fever and productive cough; chest x-ray shows left lower lobe infiltrate.", "medical"),
    ("Blood pressure 150/95, heart rate 88. Start amlodipine 5 mg daily and recheck in two weeks.", "medical"),
    ("Invoice total due: $1,240.00 including VAT. Payment within 30 days to the account below.", "financial"),
    ("Quarterly revenue rose 8% to $2.1 billion and diluted earnings per share were $1.12.", "financial"),
    ("Run pip install mytool, then call mytool --config settings.yaml to start the server on port 8080.", "technical"),
    ("The function returns a list of parsed tokens and raises ValueError on malformed input.", "technical"),
    ("We are hiring a senior accountant; the role offers a competitive salary, pension and 25 days leave.", "hr"),
    ("Resume: five years of experience as a project manager; skills include scheduling and team leadership.", "hr"),
    ("Heavy rain and strong winds are expected across the region this weekend, forecasters said.", "general"),
    ("The home side scored twice in the second half to win the derby in front of a sell-out crowd.", "general"),
]


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, str]]:
    return load_corpus()


@pytest.fixture(scope="module")
def classifier(corpus: list[tuple[str, str]]) -> DomainClassifier:
    return DomainClassifier.train(corpus)


def test_labels_are_the_pipeline_domains() -> None:
    from docproc.models import Domain

    assert tuple(d.value for d in Domain) == LABELS


def test_corpus_has_many_documents_per_label(corpus: list[tuple[str, str]]) -> None:
    sizes = Counter(label for _, label in corpus)
    print("corpus documents per label:", dict(sizes))
    assert set(sizes) == set(LABELS)
    assert min(sizes.values()) >= 60


def test_training_is_deterministic(corpus: list[tuple[str, str]], classifier: DomainClassifier) -> None:
    again = DomainClassifier.train(corpus)
    for text, _ in SHORT_TEXTS:
        assert again.predict_proba(text) == classifier.predict_proba(text)
    assert again.to_json() == classifier.to_json()


def test_training_takes_seconds_not_minutes(corpus: list[tuple[str, str]]) -> None:
    start = time.perf_counter()
    DomainClassifier.train(corpus)
    elapsed = time.perf_counter() - start
    print(f"training on {len(corpus)} documents took {elapsed:.2f}s")
    assert elapsed < 15  # ~1.5 s on an idle core; generous for busy CI machines


@pytest.mark.parametrize("text", ["", "contract", SHORT_TEXTS[0][0], "x " * 5000, "数据 データ данные"])
def test_probabilities_cover_every_label_and_sum_to_one(classifier: DomainClassifier, text: str) -> None:
    probs = classifier.predict_proba(text)
    assert tuple(probs) == LABELS
    assert all(0.0 <= p <= 1.0 for p in probs.values())
    assert math.isclose(sum(probs.values()), 1.0, rel_tol=1e-12)


def test_json_round_trip_gives_identical_output(classifier: DomainClassifier) -> None:
    restored = DomainClassifier.from_json(json.loads(json.dumps(classifier.to_json())))
    for text, _ in SHORT_TEXTS:
        assert restored.predict_proba(text) == classifier.predict_proba(text)
    assert restored.to_json() == classifier.to_json()


def test_from_json_rejects_a_foreign_document() -> None:
    with pytest.raises(ValueError, match="format"):
        DomainClassifier.from_json({"format": "something-else/1"})


@pytest.mark.slow
def test_cross_validation_accuracy_on_the_corpus(corpus: list[tuple[str, str]]) -> None:
    accuracy, errors = cross_validate(corpus, folds=5)
    print(f"5-fold cross-validation accuracy: {accuracy:.3f} ({len(errors)} errors)")
    for label, predicted, first_line in errors:
        print(f"  {label} -> {predicted}: {first_line}")
    assert accuracy >= 0.8


@pytest.mark.parametrize(("name", "expected"), SAMPLE_DOMAINS.items())
def test_bundled_sample_documents_get_their_label(classifier: DomainClassifier, name: str, expected: str) -> None:
    path = REALDOCS / name
    if not path.is_file():
        pytest.skip(f"{path} not found (the real documents live in ../shared/realdocs)")
    # GIVEN the text as the pipeline would extract it (JSON flattened to path: value lines, HTML visible text)
    text = extract_text(path)
    # WHEN it is classified
    label, confidence = classifier.predict(text)
    print(f"{name}: {label} {confidence:.2f}")
    # THEN the domain is right
    assert label == expected, classifier.predict_proba(text)


@pytest.mark.parametrize(("text", "expected"), SHORT_TEXTS)
def test_short_obvious_texts(classifier: DomainClassifier, text: str, expected: str) -> None:
    assert classifier.predict(text)[0] == expected, classifier.predict_proba(text)


@pytest.mark.parametrize("text", ["", "   \n\t", "!!! ... ---"])
def test_text_without_features_gets_the_flat_distribution_reported_as_general(
    classifier: DomainClassifier, text: str
) -> None:
    # No evidence for any label: every label gets 1/6, and predict() breaks the tie towards general.
    probs = classifier.predict_proba(text)
    assert all(math.isclose(p, 1 / len(LABELS)) for p in probs.values())
    assert classifier.predict(text) == ("general", probs["general"])


def test_unknown_words_give_low_confidence(classifier: DomainClassifier) -> None:
    # Text made of words the model never saw must not be classified confidently.
    assert classifier.predict("zorblax quimbly frandish wopple snerk glorpat")[1] < 0.5


def test_a_two_megabyte_text_is_classified_quickly(classifier: DomainClassifier) -> None:
    text = ("The tenant shall pay rent monthly in advance under the lease agreement. " * 28_000)[:2_000_000]
    start = time.perf_counter()
    label, _ = classifier.predict(text)
    elapsed = time.perf_counter() - start
    print(f"2 MB text classified in {elapsed * 1000:.0f} ms")
    assert label == "legal"
    assert elapsed < 1.0  # well under 100 ms on an idle core; the whole text would take seconds


def test_trained_model_is_cached_by_corpus_hash(tmp_path: Path) -> None:
    first = load_or_train(cache_dir=tmp_path)
    cached = list(tmp_path.glob("domain-classifier-*.json"))
    assert len(cached) == 1
    second = load_or_train(cache_dir=tmp_path)  # loaded from the file, not retrained
    assert second.to_json() == first.to_json()

    cached[0].write_text("{not json", encoding="utf-8")
    third = load_or_train(cache_dir=tmp_path)  # a corrupt cache is rebuilt, not fatal
    assert third.to_json() == first.to_json()
    assert json.loads(cached[0].read_text(encoding="utf-8"))["format"] == first.to_json()["format"]


def test_load_corpus_splits_documents_on_separator_lines(tmp_path: Path) -> None:
    for label in LABELS:
        (tmp_path / f"{label}.txt").write_text(f"first {label}\n---\n\nsecond {label}\n  ---  \n", encoding="utf-8")
    docs = load_corpus(tmp_path)
    assert len(docs) == 2 * len(LABELS)
    assert ("second hr", "hr") in docs


def test_training_rejects_unknown_labels() -> None:
    with pytest.raises(CorpusError, match="politics"):
        DomainClassifier.train([("some text", "politics"), ("other text", "legal")])


def test_flatten_json_and_html_match_the_pipeline_shapes() -> None:
    resume = {"basics": {"name": "Ada", "profiles": []}, "work": [{"position": "Engineer", "end": None}]}
    assert list(flatten_json(resume)) == ["basics.name: Ada", "work[0].position: Engineer"]
    html = "<html><head><title>t</title><style>p{}</style></head><body><p>Hello</p><script>x()</script>world</body>"
    assert html_to_text(html) == "Hello\nworld"
