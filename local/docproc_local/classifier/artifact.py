"""The classifier's SageMaker artifact: build ``model.tar.gz``, and load and call it as the container does.

Layout of the archive (what the SageMaker scikit-learn container expects)::

    model.joblib          the fitted scikit-learn pipeline
    model.json            metadata: format, labels, versions, corpus hash, training figures
    code/inference.py     model_fn / input_fn / predict_fn / output_fn (classifier/code/inference.py)

:class:`ServedModel` is how local mode serves it: the archive is unpacked into a model directory, ``code/`` is
imported as the container imports it (``SAGEMAKER_PROGRAM`` / ``SAGEMAKER_SUBMIT_DIRECTORY``), ``model_fn`` loads the
model and every request goes through ``input_fn`` -> ``predict_fn`` -> ``output_fn``. There is no other
implementation of serving.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import logging
import os
import shutil
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from docproc_local.classifier.corpus import CLASSIFIER_DIR, CORPUS_DIR, REPO, corpus_hash, load_corpus

logger = logging.getLogger(__name__)

INFERENCE_SOURCE = CLASSIFIER_DIR / "code" / "inference.py"
TRAIN_SOURCE = Path(__file__).with_name("train.py")
AUGMENT_SOURCE = Path(__file__).with_name("augment.py")
ARTIFACT_NAME = "model.tar.gz"


def default_artifact_path() -> Path:
    """``$DOCPROC_HOME/classifier/model.tar.gz`` if set, else ``.docproc/classifier/model.tar.gz`` in the checkout."""
    home = os.environ.get("DOCPROC_HOME")
    return (Path(home) if home else REPO / ".docproc") / "classifier" / ARTIFACT_NAME


def source_hash() -> str:
    """What the artifact is built from: corpus, serving code, training code and scikit-learn's version."""
    import sklearn

    digest = hashlib.sha256()
    for part in (
        corpus_hash(CORPUS_DIR),
        INFERENCE_SOURCE.read_bytes(),
        TRAIN_SOURCE.read_bytes(),
        AUGMENT_SOURCE.read_bytes(),
        sklearn.__version__,
    ):
        digest.update(part.encode() if isinstance(part, str) else part)
    return digest.hexdigest()


def load_inference(code_dir: Path, module_name: str = "inference") -> ModuleType:
    """Import ``code_dir/inference.py`` as the container does: its folder on ``sys.path``, a module of its own."""
    path = code_dir / "inference.py"
    unique = f"docproc_classifier_{module_name}_{hashlib.sha256(str(path).encode()).hexdigest()[:10]}"
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no inference.py in {code_dir}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    return module


def build(output: Path | None = None, *, quiet: bool = False, hyper: Any = None) -> Path:
    """Train on the shipped corpus and write ``model.tar.gz`` (reproducible: same inputs, same archive);
    ``hyper`` (a :class:`train.Hyper`) replaces the default settings."""
    import joblib

    from docproc_local.classifier.train import train

    output = output or default_artifact_path()
    inference = load_inference(INFERENCE_SOURCE.parent)
    examples = load_corpus()
    if not quiet:
        print(f"training on {len(examples)} documents from {CORPUS_DIR} ...", file=sys.stderr, flush=True)
    trained = train(examples, inference.prepare_text, hyper, split=inference.windows)
    metadata = {"format": inference.MODEL_FORMAT, "source_hash": source_hash(), **trained.metadata}
    model_bytes = io.BytesIO()
    joblib.dump(trained.pipeline, model_bytes, compress=("gzip", 3))
    members = {
        inference.MODEL_FILE: model_bytes.getvalue(),
        inference.METADATA_FILE: json.dumps(metadata, indent=2, sort_keys=True).encode(),
        "code/inference.py": INFERENCE_SOURCE.read_bytes(),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".partial")
    with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(members[name]), 0, 0o644
            archive.addfile(info, io.BytesIO(members[name]))
    partial.replace(output)
    return output


def read_metadata(artifact: Path) -> dict[str, Any]:
    with tarfile.open(artifact, "r:gz") as archive:
        member = archive.extractfile("model.json")
        if member is None:
            raise ValueError(f"{artifact} has no model.json")
        return json.loads(member.read())


def ensure(artifact: Path | None = None) -> Path:
    """The artifact, built first if it is missing or was built from another corpus, code or settings (a variant
    written by ``docproc classifier train --set`` over the default artifact is not what the pipeline serves)."""
    from dataclasses import asdict

    from docproc_local.classifier.train import Hyper

    artifact = artifact or default_artifact_path()
    if artifact.is_file():
        try:
            metadata = read_metadata(artifact)
            if metadata.get("source_hash") == source_hash() and metadata.get("hyper") == asdict(Hyper()):
                return artifact
        except (OSError, ValueError, KeyError, tarfile.TarError):
            logger.warning("classifier artifact %s is unreadable: rebuilding it", artifact)
    started = time.perf_counter()
    build(artifact)
    print(f"built classifier artifact {artifact} in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return artifact


def chosen(artifact: Path | None) -> Path:
    """What ``evaluate``, ``bench`` and ``publish`` work on: the artifact the user named, exactly as it is (never
    retrained: it may come from another corpus or settings on purpose), else the built one (:func:`ensure`)."""
    if artifact is None:
        return ensure()
    if not artifact.is_file():
        raise FileNotFoundError(f"classifier artifact {artifact} does not exist (docproc classifier train builds one)")
    try:
        if read_metadata(artifact).get("source_hash") != source_hash():
            print(f"note: {artifact} was trained from another corpus or code than this checkout's", file=sys.stderr)
    except (OSError, ValueError, KeyError, tarfile.TarError) as error:
        raise ValueError(f"classifier artifact {artifact} is not a model.tar.gz of docproc's: {error}") from error
    return artifact


def unpack(artifact: Path, into: Path) -> Path:
    """Unpack ``artifact`` into ``into`` (a model directory like ``/opt/ml/model``), refusing unsafe members."""
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(artifact, "r:gz") as archive:
        archive.extractall(into, filter="data")
    return into


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class ServedModel:
    """``model.tar.gz`` served in this process exactly as the SageMaker scikit-learn container serves it."""

    def __init__(self, artifact: Path, model_dir: Path | None = None) -> None:
        self.artifact = artifact
        if model_dir is None:
            digest = hashlib.sha256(artifact.read_bytes()).hexdigest()[:16]
            model_dir = Path(tempfile.gettempdir()) / f"docproc-model-{digest}"
        self.model_dir = model_dir
        if not (model_dir / "code" / "inference.py").is_file():
            # unpack beside it, then rename: a second process never sees a half-written model directory
            staging = Path(tempfile.mkdtemp(prefix=f"{model_dir.name}.", dir=model_dir.parent))
            unpack(artifact, staging)
            try:
                staging.rename(model_dir)
            except OSError:  # another process got there first: use its copy
                shutil.rmtree(staging, ignore_errors=True)
        self.module = load_inference(model_dir / "code")
        started = time.perf_counter()
        self.model = self.module.model_fn(str(model_dir))
        self.load_seconds = time.perf_counter() - started
        self._lock = threading.Lock()

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.model.labels)

    def invoke(self, body: bytes, content_type: str | None, accept: str | None = "application/json") -> Answer:
        """One request through input_fn -> predict_fn -> output_fn; any exception is the container's 500."""
        media_type = (content_type or "").split(";")[0].strip().lower()
        # the container's Request.content hands JSON (and CSV) bodies to input_fn as text, everything else as bytes
        content: bytes | str = body.decode("utf-8", errors="replace") if media_type == "application/json" else body
        try:
            data = self.module.input_fn(content, content_type)
            with self._lock:  # scikit-learn estimators are not documented thread-safe for concurrent predict
                prediction = self.module.predict_fn(data, self.model)
            response = self.module.output_fn(prediction, accept)
        except Exception as error:  # the container answers 500 for an exception in user code
            logger.exception("classifier model failed")
            return Answer(500, json.dumps({"error": type(error).__name__, "message": str(error)}).encode())
        return Answer(int(response.status_code), bytes(response.get_data()))

    def scores(self, text: str) -> dict[str, float]:
        """Label -> probability of one text (for evaluation and tests), through the same contract."""
        answer = self.invoke(json.dumps({"inputs": text}).encode(), "application/json")
        if answer.status != 200:
            raise ValueError(f"classifier answered {answer.status}: {answer.body.decode(errors='replace')}")
        return {item["label"]: float(item["score"]) for item in json.loads(answer.body)}
