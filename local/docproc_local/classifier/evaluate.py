"""``docproc classifier evaluate PATH``: the artifact on labelled documents (evaluation only, never training).

Each file's text is extracted by the pipeline's own reader (:func:`docproc.formats.extract_text`) and cut at the
stack's ``MaxModelInputChars`` like the classify function does, then sent through the artifact's
``input_fn -> predict_fn -> output_fn``. Files without text (scans before OCR, encrypted or broken files) are listed
and left out of the scores, as are files labelled ``-`` or not labelled.

Labels: a TSV with ``file``, ``domain`` and ``language`` columns (``classifier/eval/realdocs.tsv`` for
``../shared/realdocs``, used when PATH has no ``labels.tsv`` of its own; ``classifier/dev/labels.tsv`` for the
development set ``classifier/dev``, which is what choices are made on).

Printed: per-domain precision, recall and F1, macro-F1, accuracy, the confusion matrix, calibration (expected
calibration error over 10 confidence bins and the reliability table) and accuracy / macro-F1 per language.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from docproc_local.classifier.corpus import CLASSIFIER_DIR, LABELS

DEFAULT_LABELS = CLASSIFIER_DIR / "eval" / "realdocs.tsv"
MAX_MODEL_INPUT_CHARS = 60_000  # the template's MaxModelInputChars default
MAX_PDF_PAGES = 200
BINS = 10
#: Files of a labelled folder that are not documents (skipped unless the labels name them).
NOT_DOCUMENTS = ("labels.tsv", "MANIFEST.tsv", "README.md", "fetch.sh")


@dataclass(frozen=True)
class Row:
    file: str
    expected: str | None
    language: str
    predicted: str | None = None
    confidence: float | None = None
    skipped: str | None = None  # why the file is not scored


def read_labels(path: Path) -> dict[str, tuple[str | None, str]]:
    """file -> (domain or None, language) from a labels TSV (lines starting with # are comments)."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    labels: dict[str, tuple[str | None, str]] = {}
    for n, row in enumerate(csv.DictReader(lines, delimiter="\t"), start=2):
        domain = (row.get("domain") or "").strip()
        if domain not in (*LABELS, "-"):
            raise ValueError(f"{path}: row {n} ({row.get('file')}): domain {domain!r} is not one of {LABELS} or -")
        labels[row["file"]] = (None if domain == "-" else domain, (row.get("language") or "").strip() or "?")
    return labels


def classify_folder(folder: Path, labels: dict[str, tuple[str | None, str]], model: Any) -> list[Row]:
    from docproc.errors import DocprocError
    from docproc.formats import extract_text

    rows = []
    documents = (p for p in folder.iterdir() if p.is_file() and (p.name in labels or p.name not in NOT_DOCUMENTS))
    for path in sorted(documents):
        expected, language = labels.get(path.name, (None, "?"))
        if path.name not in labels:
            rows.append(Row(path.name, None, language, skipped="not labelled"))
            continue
        try:
            text = extract_text(path.read_bytes(), path.name, max_pages=MAX_PDF_PAGES).text
        except DocprocError as error:
            rows.append(Row(path.name, expected, language, skipped=f"no text: {error.reason_code}"))
            continue
        scores = model.scores(text[:MAX_MODEL_INPUT_CHARS])
        best = max(scores, key=lambda label: scores[label])
        rows.append(Row(path.name, expected, language, best, scores[best], None if expected else "label -"))
    return rows


def metrics(rows: Sequence[Row]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    scored = [row for row in rows if row.skipped is None]
    y_true = [row.expected for row in scored]
    y_pred = [row.predicted for row in scored]
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(LABELS), zero_division=0
    )
    per_language = {}
    for language in sorted({row.language for row in scored}):
        subset = [row for row in scored if row.language == language]
        per_language[language] = {
            "documents": len(subset),
            "accuracy": accuracy_score([r.expected for r in subset], [r.predicted for r in subset]),
            "macro_f1": f1_score(
                [r.expected for r in subset],
                [r.predicted for r in subset],
                labels=sorted({r.expected for r in subset} | {r.predicted for r in subset}),  # type: ignore[type-var]
                average="macro",
                zero_division=0,
            ),
        }
    ece, table = calibration(scored)
    # macro over the domains that occur (expected or predicted), as sklearn's default labels: a domain a folder has
    # no document of and the model never answered is not a domain scored 0
    present = [i for i, label in enumerate(LABELS) if label in set(y_true) | set(y_pred)]
    return {
        "documents_scored": len(scored),
        "accuracy": accuracy_score(y_true, y_pred),
        "macro_f1": float(f1[present].mean()) if present else 0.0,
        "domains_scored": [LABELS[i] for i in present],
        "per_domain": {
            label: {"precision": p, "recall": r, "f1": f, "support": int(s)}
            for label, p, r, f, s in zip(LABELS, precision, recall, f1, support, strict=True)
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
        "ece": ece,
        "reliability": table,
        "per_language": per_language,
        "max_confidence_wrong": max((r.confidence or 0.0 for r in scored if r.predicted != r.expected), default=None),
    }


def calibration(rows: Sequence[Row]) -> tuple[float, list[dict[str, Any]]]:
    """Expected calibration error over ``BINS`` equal-width confidence bins, and the per-bin table."""
    table, ece = [], 0.0
    for b in range(BINS):
        low, high = b / BINS, (b + 1) / BINS
        members = [r for r in rows if (low < (r.confidence or 0.0) <= high) or (b == 0 and r.confidence == 0.0)]
        if not members:
            continue
        confidence = sum(r.confidence or 0.0 for r in members) / len(members)
        accuracy = sum(r.predicted == r.expected for r in members) / len(members)
        ece += len(members) / max(1, len(rows)) * abs(accuracy - confidence)
        table.append(
            {"bin": f"{low:.1f}-{high:.1f}", "documents": len(members), "confidence": confidence, "accuracy": accuracy}
        )
    return ece, table


def print_report(rows: Sequence[Row], result: dict[str, Any], seconds: float, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps({"rows": [asdict(r) for r in rows], **result}, indent=2, default=float))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=None if Console().is_terminal else 120)  # piped: no 80-column cut
    files = Table(title="documents", show_lines=False)
    for column in ("file", "lang", "expected", "predicted", "p", ""):
        files.add_column(column)
    for r in rows:
        mark = "" if r.skipped else ("ok" if r.predicted == r.expected else "WRONG")
        files.add_row(
            r.file, r.language, r.expected or "-", r.predicted or "-",
            f"{r.confidence:.2f}" if r.confidence is not None else "", r.skipped or mark,
        )  # fmt: skip
    console.print(files)
    domains = Table(title="per domain")
    for column in ("domain", "precision", "recall", "F1", "support"):
        domains.add_column(column, justify="right" if column != "domain" else "left")
    for label, m in result["per_domain"].items():
        domains.add_row(label, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"]))
    console.print(domains)
    confusion = Table(title="confusion matrix (rows: expected, columns: predicted)")
    confusion.add_column("")
    for label in LABELS:
        confusion.add_column(label[:9], justify="right")
    for label, counts in zip(LABELS, result["confusion"], strict=True):
        confusion.add_row(label, *(str(c) if c else "." for c in counts))
    console.print(confusion)
    reliability = Table(title=f"calibration: expected calibration error {result['ece']:.3f}")
    for column in ("confidence bin", "documents", "mean confidence", "accuracy"):
        reliability.add_column(column, justify="right")
    for b in result["reliability"]:
        reliability.add_row(b["bin"], str(b["documents"]), f"{b['confidence']:.3f}", f"{b['accuracy']:.3f}")
    console.print(reliability)
    languages = Table(title="per language")
    for column in ("language", "documents", "accuracy", "macro-F1"):
        languages.add_column(column, justify="right")
    for language, m in result["per_language"].items():
        languages.add_row(language, str(m["documents"]), f"{m['accuracy']:.3f}", f"{m['macro_f1']:.3f}")
    console.print(languages)
    wrong = result["max_confidence_wrong"]
    console.print(
        f"scored {result['documents_scored']} of {len(rows)} files: accuracy {result['accuracy']:.3f}, "
        f"macro-F1 {result['macro_f1']:.3f}, lowest domain F1 "
        f"{min(result['per_domain'][d]['f1'] for d in result['domains_scored']):.3f}, ECE {result['ece']:.3f}, "
        f"highest confidence on a wrong answer {'-' if wrong is None else f'{wrong:.2f}'} ({seconds:.1f} s)"
    )


def run(folder: Path, labels_path: Path | None, artifact: Path | None, as_json: bool = False) -> dict[str, Any]:
    from docproc_local.classifier import artifact as artifacts

    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of documents")
    labels_path = labels_path or (folder / "labels.tsv" if (folder / "labels.tsv").is_file() else DEFAULT_LABELS)
    labels = read_labels(labels_path)
    started = time.perf_counter()
    model = artifacts.ServedModel(artifacts.chosen(artifact))
    rows = classify_folder(folder, labels, model)
    result = metrics(rows)
    print_report(rows, result, time.perf_counter() - started, as_json)
    return result
