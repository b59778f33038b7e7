"""The classifier's cross-validation and augmentation: deterministic and label-preserving."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from docproc_local.classifier import cv
from docproc_local.classifier.augment import ocr_noise
from docproc_local.classifier.corpus import Example
from docproc_local.classifier.train import Hyper, augmented

TEXT = "The tenant shall pay the monthly rent of 1,200 EUR on the first working day; the lease ends in 2026."


def test_ocr_noise_is_deterministic_and_changes_the_text() -> None:
    # GIVEN one text WHEN it is noised twice with one seed and once with another THEN the same seed gives the same text
    assert ocr_noise(TEXT, seed=7) == ocr_noise(TEXT, seed=7)
    assert ocr_noise(TEXT, seed=7, rate=0.2) != TEXT
    assert ocr_noise(TEXT, seed=7, rate=0.2) != ocr_noise(TEXT, seed=8, rate=0.2)
    assert ocr_noise(TEXT, seed=7, rate=0.0) == TEXT


def test_augmented_copies_keep_label_and_language() -> None:
    examples = [Example(TEXT, "legal", "en", "en/legal.txt#0"), Example("Fieber und Husten.", "medical", "de", "x#1")]
    out = augmented(examples, copies=2)
    assert len(out) == 6
    assert [(e.label, e.language) for e in out[2:4]] == [("legal", "en"), ("medical", "de")]
    assert out[2].source.endswith("~ocr1") and out[4].source.endswith("~ocr2")
    assert augmented(examples, copies=0) == examples


def test_shift_noises_every_document_and_keeps_labels() -> None:
    docs = [Example(f"{TEXT} {n}", "legal", "en", f"s#{n}") for n in range(4)]
    shifted = cv.shift(docs, seed=1)
    assert [d.label for d in shifted] == ["legal"] * 4
    assert all(s.text != d.text for s, d in zip(shifted, docs, strict=True))


def test_folds_hold_out_whole_languages_in_language_out() -> None:
    examples = [Example(f"t{n}", "legal" if n % 2 else "hr", lang, f"{lang}#{n}") for n in range(6) for lang in "ab"]
    for train_index, test_index in cv.folds(examples, "language-out"):
        assert len({examples[i].language for i in test_index}) == 1
        assert not {examples[i].language for i in test_index} & {examples[i].language for i in train_index}


def test_summary_counts_a_known_confusion() -> None:
    truth = ["legal", "legal", "hr", "hr"]
    predicted = ["legal", "hr", "hr", "hr"]
    summary = cv.summarise(truth, predicted, np.array([0.9, 0.8, 0.7, 0.6]), ["en", "de", "en", "de"])
    assert summary["accuracy"] == 0.75
    assert summary["per_language_accuracy"] == {"de": 0.5, "en": 1.0}
    # one of two confident answers above 0.75 is wrong: the calibration error is not zero
    assert summary["ece"] > 0.1


def test_hyper_variants_are_plain_settings() -> None:
    assert replace(Hyper(), model="logreg", noisy_copies=1).model == "logreg"
