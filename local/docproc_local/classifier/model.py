"""A small trained domain classifier for local mode, in pure Python (stdlib only).

Model: complement naive Bayes (Rennie et al., 2003) over TF-IDF features, calibrated with a softmax
temperature fitted on leave-one-out scores of the training corpus (each document scored by the model trained
without it), so a probability reflects held-out behaviour rather than the fit to the training set.

Features of a text (lower-cased):

* word unigrams and word bigrams; numbers are replaced by their shape (``<int3>``, ``<dec>``, ``<year>``) so
  that amounts and dates count as evidence without memorising values;
* character 3- to 5-grams inside words (``" pat"``, ``"atie"``, ...), hashed into a fixed number of buckets
  with CRC-32, which is stable across processes (unlike ``hash()``).

Each group is weighted (sublinear tf, idf, group weight), then the whole vector is L2-normalised. A feature the
model never saw keeps its weight in the norm, so text made mostly of unknown words (another language, noise)
gets a flatter, less confident distribution instead of a confident guess from the few words it knows.

Long texts are classified on a bounded sample (the head plus evenly spaced windows), so a 2 MB text costs about
as much as a 20 kB one.

The training corpus ships in ``corpus/<label>.txt`` (see ``corpus/README.md``); :func:`default_classifier`
trains on it once per process and caches the trained model as JSON keyed by a hash of the corpus, the settings
and this module's source.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import operator
import os
import random
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LABELS: tuple[str, ...] = ("legal", "medical", "financial", "technical", "hr", "general")
FALLBACK_LABEL = "general"
MODEL_FORMAT = "docproc-domain-classifier/1"
CORPUS_DIR = Path(__file__).with_name("corpus")
DOC_SEPARATOR = "---"

_TOKEN_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+(?:[.,]\d+)*|[$€£¥%]")


class CorpusError(ValueError):
    """The training corpus is missing, empty or names a label the classifier does not know."""


@dataclass(frozen=True)
class Hyper:
    """Training settings. The defaults were chosen by cross-validation on the shipped corpus only."""

    alpha: float = 0.1  # additive smoothing of the complement counts
    bigram_weight: float = 0.4
    char_weight: float = 0.3
    char_min: int = 3
    char_max: int = 5
    char_buckets: int = 1 << 18
    min_df: int = 2  # drop features seen in fewer training documents
    max_chars: int = 20_000  # size of the sample of a long text that is classified


# --- features -------------------------------------------------------------------------------------------------------


def sample_text(text: str, max_chars: int) -> str:
    """The part of ``text`` that is classified: all of it if short, else its head plus evenly spaced windows."""
    if len(text) <= max_chars:
        return text
    head = max_chars * 3 // 4
    windows = 8
    width = (max_chars - head) // windows
    stride = (len(text) - head - width) // windows
    parts = [text[:head]]
    parts.extend(text[head + (i + 1) * stride : head + (i + 1) * stride + width] for i in range(windows))
    return "\n".join(parts)


def _number_shape(token: str) -> str:
    if "." in token or "," in token:
        return "<dec>"
    if len(token) == 4 and token[:2] in ("19", "20"):
        return "<year>"
    return f"<int{min(len(token), 5)}>"


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; numbers become their shape; currency signs and % are tokens of their own."""
    out = []
    for token in _TOKEN_RE.findall(text.lower()):
        out.append(_number_shape(token) if token[0].isdigit() else token)
    return out


@lru_cache(maxsize=200_000)
def _char_grams(word: str, low: int, high: int, buckets: int) -> tuple[str, ...]:
    """Hashed character n-grams of one word padded with spaces (cached: words recur across documents)."""
    padded = f" {word} "
    return tuple(
        f"c{zlib.crc32(padded[i : i + n].encode()) % buckets}"
        for n in range(low, high + 1)
        for i in range(len(padded) - n + 1)
    )


def raw_features(text: str, hyper: Hyper) -> Counter[str]:
    """Counts of every feature of ``text`` (already sampled): ``w`` words, ``b`` bigrams, ``c`` char buckets."""
    tokens = tokenize(text)
    words = Counter(tokens)
    features: list[str] = [f"b{first} {second}" for first, second in itertools.pairwise(tokens)]
    for word, count in words.items():
        if word[0] != "<" and len(word) > 1 and word.isalpha():
            grams = _char_grams(word, hyper.char_min, hyper.char_max, hyper.char_buckets)
            features.extend(grams * count if count > 1 else grams)
    counts = Counter(features)
    for word, count in words.items():
        counts["w" + word] = count
    return counts


_TF = [0.0] + [1.0 + math.log(c) for c in range(1, 1024)]  # sublinear tf of small counts, precomputed
_GROUP_WEIGHT_FIELDS = {"b": "bigram_weight", "c": "char_weight"}


def _group_weight(feature: str, hyper: Hyper) -> float:
    field = _GROUP_WEIGHT_FIELDS.get(feature[0])
    return getattr(hyper, field) if field else 1.0


class _Vectorizer:
    """Sublinear tf x idf x group weight, L2-normalised over *all* features; only known features are returned."""

    def __init__(self, idf: Mapping[str, float], unseen_idf: float, hyper: Hyper) -> None:
        self.idf = dict(idf)
        self.unseen_idf = unseen_idf
        self.hyper = hyper
        self._scale = {f: v * _group_weight(f, hyper) for f, v in idf.items()}
        self._unseen_scale = {kind: unseen_idf * _group_weight(kind, hyper) for kind in "wbc"}

    @classmethod
    def fit(cls, raws: Sequence[Mapping[str, int]], hyper: Hyper) -> _Vectorizer:
        df: Counter[str] = Counter()
        for raw in raws:
            df.update(raw.keys())
        n = len(raws)
        idf = {f: math.log((1 + n) / (1 + d)) + 1.0 for f, d in df.items() if d >= hyper.min_df}
        return cls(idf, math.log(1 + n) + 1.0, hyper)

    def __call__(self, raw: Mapping[str, int]) -> dict[str, float]:
        features = list(raw)
        tfs = [_TF[c] if c < len(_TF) else 1.0 + math.log(c) for c in raw.values()]
        scales = list(map(self._scale.get, features))
        unseen = self._unseen_scale
        norm_sq = math.fsum(
            (tf * (unseen[f[0]] if s is None else s)) ** 2 for f, tf, s in zip(features, tfs, scales, strict=True)
        )
        if norm_sq == 0.0:
            return {}
        inv = 1.0 / math.sqrt(norm_sq)
        return {f: tf * s * inv for f, tf, s in zip(features, tfs, scales, strict=True) if s is not None}


# --- the model --------------------------------------------------------------------------------------------------------


def _softmax(scores: Sequence[float], temperature: float) -> list[float]:
    top = max(scores)
    exps = [math.exp((s - top) / temperature) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


class _ComplementCounts:
    """Per label, the summed feature weights of every document *not* in that label (the complement)."""

    def __init__(self, vectors: Sequence[Mapping[str, float]], labels: Sequence[int], n_labels: int) -> None:
        per_label: list[dict[str, float]] = [{} for _ in range(n_labels)]
        total: dict[str, float] = {}
        for vector, label in zip(vectors, labels, strict=True):
            own = per_label[label]
            for f, v in vector.items():
                own[f] = own.get(f, 0.0) + v
                total[f] = total.get(f, 0.0) + v
        self.features = sorted(total)
        self.complement = [{f: total[f] - own.get(f, 0.0) for f in self.features} for own in per_label]
        self.mass = [sum(c.values()) for c in self.complement]
        self.n_labels = n_labels

    def weights(self, alpha: float) -> dict[str, list[float]]:
        """Rennie et al.: w[k][f] = -log P(f | not k), with additive smoothing ``alpha``."""
        vocab = len(self.features)
        columns = []
        for complement, mass in zip(self.complement, self.mass, strict=True):
            log_denominator = math.log(mass + alpha * vocab)
            columns.append([log_denominator - math.log(complement[f] + alpha) for f in self.features])
        return {f: [column[i] for column in columns] for i, f in enumerate(self.features)}

    def leave_one_out_scores(self, vector: Mapping[str, float], label: int, alpha: float) -> list[float]:
        """Scores of a training document by the model trained without it (exact for the counts; idf kept)."""
        vocab = len(self.features)
        own_mass = sum(vector.values())
        scores = []
        for k in range(self.n_labels):
            complement = self.complement[k]
            removed = 0.0 if k == label else 1.0  # the document sits in every complement but its own label's
            log_denominator = math.log(self.mass[k] - removed * own_mass + alpha * vocab)
            scores.append(
                sum(v * (log_denominator - math.log(complement[f] - removed * v + alpha)) for f, v in vector.items())
            )
        return scores


def _scores(vector: Mapping[str, float], columns: Sequence[Mapping[str, float]]) -> list[float]:
    """Dot product of the vector with each label's weight column (every feature of ``vector`` is known)."""
    features = list(vector)
    values = list(vector.values())
    return [sum(map(operator.mul, values, map(column.__getitem__, features))) for column in columns]


def _fit_temperature(scores: Sequence[Sequence[float]], labels: Sequence[int]) -> float:
    """The softmax temperature minimising the log-loss of held-out scores (golden-section search on log T)."""

    def loss(log_t: float) -> float:
        t = math.exp(log_t)
        return -sum(math.log(max(_softmax(s, t)[y], 1e-12)) for s, y in zip(scores, labels, strict=True))

    lo, hi = math.log(1e-4), math.log(1e2)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(40):
        a = hi - ratio * (hi - lo)
        b = lo + ratio * (hi - lo)
        if loss(a) < loss(b):
            hi = b
        else:
            lo = a
    return math.exp((lo + hi) / 2)


def stratified_folds(labels: Sequence[str], folds: int, seed: int) -> list[int]:
    """A fold number for each document: every label spread evenly over the folds, in a seeded order."""
    rng = random.Random(seed)
    assignment = [0] * len(labels)
    for label in sorted(set(labels)):
        members = [i for i, y in enumerate(labels) if y == label]
        rng.shuffle(members)
        for position, index in enumerate(members):
            assignment[index] = position % folds
    return assignment


class DomainClassifier:
    """Complement naive Bayes over TF-IDF word, bigram and hashed character n-gram features.

    ``predict_proba`` returns a distribution over :attr:`labels` that sums to 1. Text with no features at all
    (empty, whitespace, punctuation only) gets the *flat* distribution: there is no evidence for any label.
    ``predict`` breaks ties in favour of ``general``, so the flat distribution is reported as ``general``.
    """

    def __init__(
        self,
        labels: Sequence[str],
        hyper: Hyper,
        idf: Mapping[str, float],
        unseen_idf: float,
        weights: Mapping[str, Sequence[float]],
        temperature: float,
        n_docs: int,
    ) -> None:
        self.labels: tuple[str, ...] = tuple(labels)
        self.hyper = hyper
        self._vectorizer = _Vectorizer(idf, unseen_idf, hyper)
        self._weights = {f: tuple(row) for f, row in weights.items()}
        self._columns = [{f: row[k] for f, row in self._weights.items()} for k in range(len(self.labels))]
        self.temperature = temperature
        self.n_docs = n_docs

    @classmethod
    def train(cls, docs: Iterable[tuple[str, str]], **hyper: Any) -> DomainClassifier:
        """Train on ``(text, label)`` pairs; ``hyper`` overrides fields of :class:`Hyper`. Deterministic."""
        settings = Hyper(**hyper)
        pairs = list(docs)
        labels = _labels_in_order(y for _, y in pairs)
        index = {label: k for k, label in enumerate(labels)}
        raws = [raw_features(sample_text(text, settings.max_chars), settings) for text, _ in pairs]
        ys = [index[y] for _, y in pairs]

        vectorizer = _Vectorizer.fit(raws, settings)
        vectors = [vectorizer(raw) for raw in raws]
        counts = _ComplementCounts(vectors, ys, len(labels))
        weights = counts.weights(settings.alpha)

        # Calibrate on leave-one-out scores: each document scored by the model trained without it (exact for the
        # counts, idf kept), so the temperature reflects held-out confidence rather than the fit to the training set.
        held_out = [counts.leave_one_out_scores(v, y, settings.alpha) for v, y in zip(vectors, ys, strict=True)]
        temperature = _fit_temperature(held_out, ys) if len(labels) > 1 else 1.0
        return cls(labels, settings, vectorizer.idf, vectorizer.unseen_idf, weights, temperature, len(pairs))

    def scores(self, text: str) -> list[float]:
        """Raw (uncalibrated) complement-NB scores, one per label."""
        raw = raw_features(sample_text(text, self.hyper.max_chars), self.hyper)
        return _scores(self._vectorizer(raw), self._columns)

    def predict_proba(self, text: str) -> dict[str, float]:
        """Calibrated probability of every label; the values sum to 1."""
        probs = _softmax(self.scores(text), self.temperature)
        return dict(zip(self.labels, probs, strict=True))

    def predict(self, text: str) -> tuple[str, float]:
        """The most probable label and its probability; ties go to ``general``."""
        probs = self.predict_proba(text)
        best = max(probs.values())
        if FALLBACK_LABEL in probs and math.isclose(probs[FALLBACK_LABEL], best, rel_tol=1e-9):
            return FALLBACK_LABEL, probs[FALLBACK_LABEL]
        label = max(probs, key=probs.__getitem__)
        return label, probs[label]

    def to_json(self) -> dict[str, Any]:
        idf = self._vectorizer.idf
        return {
            "format": MODEL_FORMAT,
            "labels": list(self.labels),
            "hyper": asdict(self.hyper),
            "temperature": self.temperature,
            "nDocs": self.n_docs,
            "unseenIdf": self._vectorizer.unseen_idf,
            # feature -> [idf, weight for each label]
            "features": {f: [idf[f], *self._weights[f]] for f in sorted(self._weights)},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DomainClassifier:
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a {MODEL_FORMAT} model: format={data.get('format')!r}")
        features: Mapping[str, Sequence[float]] = data["features"]
        return cls(
            labels=data["labels"],
            hyper=Hyper(**data["hyper"]),
            idf={f: row[0] for f, row in features.items()},
            unseen_idf=data["unseenIdf"],
            weights={f: row[1:] for f, row in features.items()},
            temperature=data["temperature"],
            n_docs=data["nDocs"],
        )


def _labels_in_order(seen: Iterable[str]) -> tuple[str, ...]:
    present = set(seen)
    unknown = present - set(LABELS)
    if unknown:
        raise CorpusError(f"unknown labels in training data: {sorted(unknown)}")
    if not present:
        raise CorpusError("no training documents")
    return tuple(label for label in LABELS if label in present)


# --- evaluation on the corpus itself ---------------------------------------------------------------------------------


def cross_validate(
    docs: Sequence[tuple[str, str]], folds: int = 5, seed: int = 7, **hyper: Any
) -> tuple[float, list[tuple[str, str, str]]]:
    """Stratified k-fold accuracy; also returns the misclassified ``(label, predicted, first line)`` triples."""
    assignment = stratified_folds([y for _, y in docs], folds, seed)
    correct = 0
    errors: list[tuple[str, str, str]] = []
    for fold in range(folds):
        train = [d for d, f in zip(docs, assignment, strict=True) if f != fold]
        model = DomainClassifier.train(train, **hyper)
        for (text, label), f in zip(docs, assignment, strict=True):
            if f != fold:
                continue
            predicted, _ = model.predict(text)
            if predicted == label:
                correct += 1
            else:
                errors.append((label, predicted, text.strip().splitlines()[0][:80]))
    return correct / len(docs), errors


# --- the shipped corpus and the cached default model ------------------------------------------------------------------


def load_corpus(corpus_dir: Path | None = None) -> list[tuple[str, str]]:
    """``(text, label)`` pairs from ``<corpus_dir>/<label>.txt``; documents are separated by a line ``---``."""
    directory = corpus_dir or CORPUS_DIR
    docs: list[tuple[str, str]] = []
    for label in LABELS:
        path = directory / f"{label}.txt"
        if not path.is_file():
            raise CorpusError(f"missing corpus file {path}")
        current: list[str] = []
        for line in [*path.read_text(encoding="utf-8").splitlines(), DOC_SEPARATOR]:
            if line.strip() == DOC_SEPARATOR:
                text = "\n".join(current).strip()
                if text:
                    docs.append((text, label))
                current = []
            else:
                current.append(line)
    return docs


def cache_key(docs: Sequence[tuple[str, str]], hyper: Hyper) -> str:
    """Hash of everything the trained model depends on: corpus, settings and the code of this module."""
    digest = hashlib.sha256()
    digest.update(MODEL_FORMAT.encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(json.dumps(asdict(hyper), sort_keys=True).encode())
    for text, label in docs:
        digest.update(f"\x00{label}\x00{text}".encode())
    return digest.hexdigest()


def default_cache_dir() -> Path:
    """``$DOCPROC_HOME/cache`` if set, else ``~/.cache/docproc``."""
    home = os.environ.get("DOCPROC_HOME")
    return Path(home) / "cache" if home else Path.home() / ".cache" / "docproc"


def load_or_train(corpus_dir: Path | None = None, cache_dir: Path | None = None) -> DomainClassifier:
    """Train on the corpus, or load the model trained on exactly this corpus from ``cache_dir``."""
    docs = load_corpus(corpus_dir)
    hyper = Hyper()
    key = cache_key(docs, hyper)
    cache_file = (cache_dir or default_cache_dir()) / f"domain-classifier-{key[:16]}.json"
    if cache_file.is_file():
        try:
            return DomainClassifier.from_json(json.loads(cache_file.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:  # a corrupt or foreign cache file is rebuilt below
            logger.warning("classifier cache unreadable, retraining: %s (%s)", cache_file, type(exc).__name__)
    model = DomainClassifier.train(docs, **asdict(hyper))
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(model.to_json(), separators=(",", ":")), encoding="utf-8")
        tmp.replace(cache_file)
    except OSError as exc:  # a read-only home only costs the next process a retrain
        logger.warning("classifier cache not written: %s (%s)", cache_file, exc)
    return model


@lru_cache(maxsize=1)
def default_classifier() -> DomainClassifier:
    """The classifier trained on the shipped corpus, built once per process."""
    return load_or_train()
