"""``docproc classifier cv``: cross-validation on the shipped corpus, the only evidence training settings are chosen by.

Evaluation documents (``../shared/realdocs``, ``golden/``) are never read here. Five protocols; ``clean``,
``shifted`` and ``long`` share the same stratified folds (label x language, shuffled with a fixed seed, so every run
is reproducible):

* ``clean``: the held-out corpus documents as they are;
* ``shifted``: each held-out document made more like a bad scan *from the corpus alone*: page furniture around it
  and heavy deterministic OCR noise (:func:`augment.ocr_noise` at 10 %). It measures robustness to scanning noise,
  not knowledge of the evaluation set. (Joining several held-out documents of one label into a long one was tried
  first and dropped: it made the task easier, 0.993, and so told nothing.);
* ``language-out``: each fold holds out one whole language (the model never saw it): transfer to a language with
  little or no training text;
* ``long``: each held-out document made into a long, mixed upload from held-out documents alone (:func:`lengthen`):
  it and five other held-out documents of its label and language, and in half of the non-legal ones a paragraph of
  a held-out *legal* document (a licence notice, terms or a privacy footer in an invoice, a README, a letter). It
  measures whether a notice decides the label of a long document, through the serving code's own windowing;
* ``source-out``: folds over the real documents of ``real/`` (from packages, see ``classifier/corpus/README.md``),
  each of its files (a part's documents of one language and label) held out whole, stratified by label; the model
  trains on the written corpus and the other files: transfer to real documents from sources it did not see. Only
  the real documents are scored. (Holding out whole parts was tried first and dropped: each part has two labels
  only, so the others taught "a real document is one of the other four labels".)

Printed per protocol: macro-F1, accuracy, lowest label F1, English vs other languages, and the expected calibration
error of the calibrated probabilities.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from docproc_local.classifier.augment import ocr_noise
from docproc_local.classifier.corpus import LABELS, Example

PROTOCOLS = ("clean", "shifted", "language-out", "long", "source-out")


def shift(docs: Sequence[Example], seed: int, rate: float = 0.1) -> list[Example]:
    """Each document as a bad scan reads it: page furniture around it and heavy OCR noise (see module doc)."""
    rng = random.Random(seed)
    shifted = []
    for n, doc in enumerate(docs):
        text = f"{rng.randint(1, 9)}/{rng.randint(10, 99)}\n{doc.text}\n- {rng.randint(1, 30)} -"
        shifted.append(replace(doc, text=ocr_noise(text, seed * 100_003 + n, rate=rate)))
    return shifted


def lengthen(docs: Sequence[Example], seed: int, parts: int = 6) -> list[Example]:
    """Each document as a long upload built from ``docs`` alone (see module doc), same label and language."""
    rng = random.Random(seed)
    by_group: dict[tuple[str, str], list[int]] = {}
    for n, doc in enumerate(docs):
        by_group.setdefault((doc.label, doc.language), []).append(n)
    legal = {
        lang: [d.text for d in docs if d.label == "legal" and d.language == lang] for lang in {d.language for d in docs}
    }
    out = []
    for n, doc in enumerate(docs):
        others = [i for i in by_group[(doc.label, doc.language)] if i != n]
        texts = [doc.text] + [docs[i].text for i in rng.sample(others, k=min(parts - 1, len(others)))]
        rng.shuffle(texts)
        if doc.label != "legal" and legal[doc.language] and rng.random() < 0.5:
            notice = rng.choice(legal[doc.language])
            start = rng.randint(0, max(0, len(notice) - 600))
            texts.insert(rng.randint(0, len(texts)), notice[start : start + 600])
        pages = len(texts)
        text = "\n".join(f"{t}\n{p + 1} / {pages}" for p, t in enumerate(texts))
        out.append(replace(doc, text=text))
    return out


def folds(examples: Sequence[Example], protocol: str, n_folds: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

    strata = [f"{e.label}/{e.language}" for e in examples]
    if protocol == "source-out":
        return source_folds(examples, n_folds)
    if protocol == "language-out":
        groups = [e.language for e in examples]
        return list(LeaveOneGroupOut().split(np.zeros(len(examples)), strata, groups))
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=0)
    return list(splitter.split(np.zeros(len(examples)), strata))


def source_folds(examples: Sequence[Example], n_folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds over the real documents only, each ``real/`` file (part, language, label) held out whole, stratified by
    label; the written corpus is in every training part."""
    from sklearn.model_selection import StratifiedGroupKFold

    index = np.arange(len(examples))
    real = index[[e.source.startswith("real/") for e in examples]]
    written = index[[not e.source.startswith("real/") for e in examples]]
    if len(real) == 0:
        raise ValueError("the source-out protocol needs a real/ part in the corpus")
    labels = [examples[i].label for i in real]
    files = [examples[i].source.split("#")[0] for i in real]
    splitter = StratifiedGroupKFold(n_splits=min(n_folds, len(set(files))), shuffle=True, random_state=0)
    return [
        (np.concatenate([written, real[train]]), real[test])
        for train, test in splitter.split(np.zeros(len(real)), labels, files)
    ]


def ece(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = (confidence > low) & (confidence <= high)
        if members.any():
            total += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(total)


def summarise(truth: Sequence[str], predicted: Sequence[str], confidence: np.ndarray, languages: Sequence[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    truth_a, pred_a, lang_a = np.asarray(truth), np.asarray(predicted), np.asarray(languages)
    per_label = f1_score(truth_a, pred_a, labels=list(LABELS), average=None, zero_division=0)
    english = lang_a == "en"

    def macro(mask: np.ndarray) -> float:
        return float(f1_score(truth_a[mask], pred_a[mask], labels=list(LABELS), average="macro", zero_division=0))

    return {
        "documents": len(truth),
        "macro_f1": float(per_label.mean()),
        "accuracy": float(accuracy_score(truth_a, pred_a)),
        "lowest_label": (LABELS[int(per_label.argmin())], float(per_label.min())),
        "english_macro_f1": macro(english) if english.any() else None,
        "other_macro_f1": macro(~english) if (~english).any() else None,
        "ece": ece(confidence, truth_a == pred_a),
        "per_language_accuracy": {
            lang: float((truth_a[lang_a == lang] == pred_a[lang_a == lang]).mean()) for lang in sorted(set(languages))
        },
    }


def run(
    examples: Sequence[Example],
    prepare: Callable[[str], str],
    hyper: Any = None,
    protocols: Sequence[str] = PROTOCOLS,
    n_folds: int = 5,
    predict: Callable[[Any, list[str]], np.ndarray] | None = None,
    split: Callable[[str], list[str]] | None = None,
) -> dict[str, Any]:
    """Train on each fold's training part with :func:`train.train` and score its held-out part, per protocol;
    ``predict(pipeline, texts)`` is the serving code's ``predict_probabilities`` (default: one ``prepare``d text),
    ``split`` its ``windows`` (passed on to :func:`train.train`)."""
    from docproc_local.classifier.train import Hyper, train

    hyper = hyper or Hyper()
    if predict is None:

        def predict(pipeline: Any, texts: list[str]) -> np.ndarray:
            return pipeline.predict_proba([prepare(text) for text in texts])

    results: dict[str, Any] = {}
    for protocol in protocols:
        started = time.perf_counter()
        truth: list[str] = []
        predicted: list[str] = []
        languages: list[str] = []
        confidence: list[float] = []
        for k, (train_index, test_index) in enumerate(folds(examples, protocol, n_folds)):
            trained = train([examples[i] for i in train_index], prepare, hyper, split=split)
            held_out = [examples[i] for i in test_index]
            if protocol == "shifted":
                held_out = shift(held_out, seed=k + 1)
            elif protocol == "long":
                held_out = lengthen(held_out, seed=k + 1)
            probabilities = predict(trained.pipeline, [e.text for e in held_out])
            classes = list(trained.pipeline.classes_)
            best = probabilities.argmax(axis=1)
            truth.extend(e.label for e in held_out)
            predicted.extend(classes[b] for b in best)
            languages.extend(e.language for e in held_out)
            confidence.extend(probabilities[np.arange(len(best)), best].tolist())
        results[protocol] = summarise(truth, predicted, np.asarray(confidence), languages)
        results[protocol]["seconds"] = round(time.perf_counter() - started, 1)
        print(f"  {protocol}: {format_line(results[protocol])}", file=sys.stderr, flush=True)
    return results


def format_line(r: dict[str, Any]) -> str:
    def f(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    label, low = r["lowest_label"]
    return (
        f"macro-F1 {f(r['macro_f1'])} (en {f(r['english_macro_f1'])}, other {f(r['other_macro_f1'])}), "
        f"accuracy {f(r['accuracy'])}, lowest {label} {low:.3f}, ECE {f(r['ece'])} "
        f"[{r['documents']} docs, {r['seconds']} s]"
    )
