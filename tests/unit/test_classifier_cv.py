"""The classifier's cross-validation and augmentation: deterministic and label-preserving."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from docproc_local.classifier import cv
from docproc_local.classifier.artifact import INFERENCE_SOURCE, load_inference
from docproc_local.classifier.augment import furnish, ocr_noise
from docproc_local.classifier.corpus import Example, load_boilerplate, load_corpus
from docproc_local.classifier.train import Hyper, augmented, document_folds, furnished

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


def test_furnish_wraps_a_document_in_boilerplate_deterministically() -> None:
    snippets = ["CONFIDENTIAL: for the addressee only.", "Page footer · Company no. 0000", "Cookie banner"]
    once = furnish(TEXT, snippets, seed=3)
    assert once == furnish(TEXT, snippets, seed=3)
    assert TEXT in once.split("\n")  # the document itself is untouched, the boilerplate on lines of its own
    assert any(snippet in once for snippet in snippets)
    assert furnish(TEXT, [], seed=3) == TEXT


def test_furnished_copies_use_their_language_or_english_and_keep_labels() -> None:
    examples = [Example(TEXT, "financial", "de", "de/financial.txt#0"), Example(TEXT, "hr", "ja", "ja/hr.txt#1")]
    boilerplate = {"de": ["Seite 1 von 2 · Amtsgericht Hannover HRB 00000"], "en": ["Registered in England No. 0"]}
    out = furnished(examples, boilerplate, copies=1, foreign=0.0)
    assert [(e.label, e.language, e.source) for e in out] == [
        ("financial", "de", "de/financial.txt#0~bp1"),
        ("hr", "ja", "ja/hr.txt#1~bp1"),
    ]
    assert "Amtsgericht" in out[0].text  # its own language's boilerplate
    assert "England" in out[1].text  # no Japanese boilerplate here: English instead
    assert furnished(examples, {}, copies=1) == []


def test_shipped_boilerplate_covers_every_corpus_language() -> None:
    boilerplate = load_boilerplate()
    languages = {e.language for e in load_corpus()}
    assert languages <= set(boilerplate)
    assert all(len(snippets) >= 8 for snippets in boilerplate.values())


def test_lengthen_builds_long_documents_of_one_label_and_language() -> None:
    docs = [
        Example(f"{label} text number {n} " * 20, label, "en", f"en/{label}#{n}")
        for label in ("legal", "hr")
        for n in range(8)
    ]
    long = cv.lengthen(docs, seed=1)
    assert [(d.label, d.language) for d in long] == [(d.label, d.language) for d in docs]
    for doc, made in zip(docs, long, strict=True):
        assert doc.text in made.text and len(made.text) > 4 * len(doc.text)
        # its other parts are of its own label, apart from at most one legal notice (600 characters)
        if doc.label == "legal":
            assert "hr text" not in made.text
        else:
            assert made.text.count("legal text") <= 600 // len("legal text number 0 ") + 1


def test_document_folds_keep_a_document_and_its_copies_together() -> None:
    documents = [f"d{n % 10}" for n in range(40)]
    labels = ["legal" if n % 10 < 5 else "hr" for n in range(40)]
    for train_index, test_index in document_folds(documents, labels, 5):
        assert not {documents[i] for i in train_index} & {documents[i] for i in test_index}


def test_windows_cover_a_long_text_with_a_bounded_number_of_windows() -> None:
    inference = load_inference(INFERENCE_SOURCE.parent)
    assert inference.windows("short text") == ["short text"]
    text = "".join(f"{n:07d} " for n in range(20_000))  # 160,000 characters
    parts = inference.windows(text, width=2_500, most=8)
    assert len(parts) == 8 and all(len(p) == 2_500 for p in parts)
    assert parts[0] == text[:2_500] and parts[-1] == text[-2_500:]
    assert len(inference.windows(text[:6_000], width=2_500, most=8)) == 3


def test_train_and_cv_settings_parse_by_type_and_reject_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    from docproc_local.classifier.cli import _hyper

    hyper = _hyper(["c=1.0", "max_char_features=200000", "char_analyzer=char_wb"])
    assert (hyper.c, hyper.max_char_features, hyper.char_analyzer) == (1.0, 200_000, "char_wb")
    assert _hyper([]) == Hyper()
    assert _hyper(["C=1.0"]) is None
    assert "unknown setting" in capsys.readouterr().err
    assert _hyper(["c=high"]) is None
    assert "takes a number" in capsys.readouterr().err


def test_long_training_texts_become_the_served_windows_weighted_to_one_document() -> None:
    from docproc_local.classifier.train import windowed

    inference = load_inference(INFERENCE_SOURCE.parent)
    short = Example("a short memo " * 20, "general", "en", "en/general.txt#0")
    long = Example(
        "".join(f"section {i} of the manual. " for i in range(3000)), "technical", "en", "en/technical.txt#1"
    )
    out, weights = windowed([short, long], inference.windows, most=4)
    assert out[0] == short and weights[0] == 1.0
    windows = out[1:]
    served = inference.windows(long.text)
    assert len(served) == inference.MAX_WINDOWS and len(windows) == 4
    assert [w.text for w in windows] == [served[0], served[2], served[5], served[7]]  # first, last, evenly between
    assert {w.label for w in windows} == {"technical"} and {w.source.split("~")[0] for w in windows} == {long.source}
    assert weights[1:].tolist() == [0.25] * 4
    assert windowed([long], inference.windows, most=1)[0][0].text == served[0]


def test_source_out_holds_out_whole_real_files_and_always_trains_on_the_written_corpus() -> None:
    written = [Example(f"w{n}", "legal", "en", f"en/legal.txt#{n}") for n in range(6)]
    files = [
        f"real/p{k % 2}/{lang}/{label}.txt"
        for k, (lang, label) in enumerate((code, b) for code in ("de", "fr", "es") for b in ("legal", "hr"))
    ]
    real = [
        Example(f"{path}{n}", path.split("/")[-1][:-4], path.split("/")[2], f"{path}#{n}")
        for path in files
        for n in range(2)
    ]
    examples = written + real
    pairs = cv.folds(examples, "source-out", n_folds=3)
    assert len(pairs) == 3
    scored = [i for _, test in pairs for i in test.tolist()]
    assert sorted(scored) == list(range(6, len(examples)))  # every real document scored once, no written one
    for train_index, test_index in pairs:
        assert set(range(6)) <= set(train_index.tolist()) and not set(train_index) & set(test_index)
        held = {examples[i].source.split("#")[0] for i in test_index}
        trained = {examples[i].source.split("#")[0] for i in train_index}
        assert not held & trained  # a file is held out whole
    with pytest.raises(ValueError, match="real/ part"):
        cv.folds(written, "source-out")


def test_source_calibration_groups_keep_a_real_file_together() -> None:
    from docproc_local.classifier.train import calibration_group

    assert calibration_group("en/legal.txt#3~ocr1~w2", by_source=True) == "en/legal.txt#3"
    assert calibration_group("real/laws/de/legal.txt#1~bp1", by_source=True) == "real/laws/de/legal.txt"
    assert calibration_group("real/laws/de/legal.txt#1~bp1", by_source=False) == "real/laws/de/legal.txt#1"


def test_language_vocabulary_gives_every_language_its_share_of_the_cap() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from docproc_local.classifier.train import shared_vocabulary

    # many English texts with many frequent words; two Japanese texts: a corpus-wide cap of 6 keeps English only
    english = [" ".join(f"w{k}" for k in range(20)) for _ in range(50)]
    japanese = ["入院 肺炎 発熱", "入院 肺炎 咳"]
    texts, languages = english + japanese, ["en"] * 50 + ["ja"] * 2
    vectorizer = TfidfVectorizer(analyzer="word", token_pattern=r"(?u)\b\w+\b")
    corpus_wide = TfidfVectorizer(analyzer="word", token_pattern=r"(?u)\b\w+\b", max_features=6).fit(texts)
    assert not {"入院", "肺炎"} & set(corpus_wide.vocabulary_)

    vocabulary = shared_vocabulary(vectorizer, texts, languages, size=6, min_df=2)
    assert len(vocabulary) == 6 and {"入院", "肺炎"} <= set(vocabulary)  # 発熱 and 咳 are in one text: below min_df
    assert sorted(vocabulary.values()) == list(range(6))
    assert vocabulary == shared_vocabulary(vectorizer, texts[::-1], languages[::-1], size=6, min_df=2)

    # a cap reached within a round keeps the better-ranked n-grams, not the alphabetically first
    texts = ["zz aa", "zz aa", "zz", "yy bb", "yy bb", "yy"]
    cut = shared_vocabulary(vectorizer, texts, ["en"] * 3 + ["de"] * 3, size=3, min_df=2)
    assert set(cut) == {"zz", "yy", "aa"} or set(cut) == {"zz", "yy", "bb"}


def test_language_vocabulary_setting_fixes_the_vectorizers_and_pickles_them_once() -> None:
    from docproc_local.classifier.train import train

    examples = [
        Example(text=f"{word} " * 5 + f"common text number {n}", label=label, language=lang, source=f"t/{lang}/{n}")
        for n, (word, label, lang) in enumerate(
            [
                ("contract", "legal", "en"),
                ("invoice", "financial", "en"),
                ("契約", "legal", "ja"),
                ("請求", "financial", "ja"),
            ]
            * 6
        )
    ]
    hyper = replace(Hyper(), vocabulary="language", noisy_copies=0, furnished_copies=0, calibration_folds=2)
    trained = train(examples, str, hyper, boilerplate={})
    for _, vectorizer in trained.pipeline.named_steps["features"].transformer_list:
        assert vectorizer.fixed_vocabulary_ and vectorizer.vocabulary is None
    assert {"契約", "contract"} <= set(trained.pipeline.named_steps["features"].transformer_list[0][1].vocabulary_)
    assert list(trained.pipeline.predict(["請求 請求"])) == ["financial"]
    with pytest.raises(ValueError, match="vocabulary must be"):
        train(examples, str, replace(hyper, vocabulary="per-script"), boilerplate={})
