"""The domain classifier: corpus, training, the served artifact's behaviour, evaluation metrics and publishing."""

from __future__ import annotations

import json
import tarfile
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from docproc.formats import extract_text
from docproc_local.classifier import artifact, evaluate, publish
from docproc_local.classifier.corpus import LABELS, CorpusError, load_corpus, split_documents

from helpers import SAMPLE_DOMAINS, served_classifier

REPO = Path(__file__).resolve().parents[2]
#: Languages the issue requires the corpus to cover, besides English.
REQUIRED_LANGUAGES = ("de", "fr", "es", "it", "nl", "pt", "ru", "ja", "zh", "ar", "he")

# Short texts written for this test (not in the corpus), one per language and domain where it is obvious.
SHORT_TEXTS = [
    ("The lessee shall indemnify the lessor against all claims arising under this agreement.", "legal"),
    ("Patient presents with fever and productive cough; chest x-ray shows left lower lobe infiltrate.", "medical"),
    ("Invoice total due: $1,240.00 including VAT. Payment within 30 days to the account below.", "financial"),
    ("Run pip install mytool, then call mytool --config settings.yaml to start the server on port 8080.", "technical"),
    ("We are hiring a senior accountant; the role offers a competitive salary, pension and 25 days leave.", "hr"),
    ("Heavy rain and strong winds are expected across the region this weekend, forecasters said.", "general"),
    ("Der Mieter verpflichtet sich, die Mietsache pfleglich zu behandeln; Gerichtsstand ist München.", "legal"),
    ("Le patient présente une fièvre et une toux; la radiographie thoracique montre une pneumonie.", "medical"),
    ("Factura número 2024-118. Base imponible 1.200,00 €, IVA 21 %, total a pagar 1.452,00 €.", "financial"),
    (
        "Per installare il pacchetto eseguire pip install, poi avviare il server con il file di configurazione.",
        "technical",
    ),
    ("Wij zoeken een ervaren boekhouder. Wij bieden een goed salaris, pensioen en 25 vakantiedagen.", "hr"),
    ("Полиция сообщила, что в выходные в городе ожидается сильный снегопад и гололёд на дорогах.", "general"),
    ("患者は発熱と咳を訴えて入院した。胸部X線で肺炎を認め、抗菌薬の投与を開始した。", "medical"),
    ("本合同自双方签字之日起生效，适用中华人民共和国法律，争议提交仲裁委员会仲裁。", "legal"),  # noqa: RUF001
]


# --- corpus ------------------------------------------------------------------------------------------------------


def test_corpus_covers_every_label_in_every_required_language() -> None:
    examples = load_corpus()
    for language in ("en", *REQUIRED_LANGUAGES):
        per_label = {label: sum(e.language == language and e.label == label for e in examples) for label in LABELS}
        assert min(per_label.values()) >= 8, (language, per_label)


def test_corpus_readme_names_every_language_folder() -> None:
    readme = (REPO / "classifier" / "corpus" / "README.md").read_text(encoding="utf-8")
    for folder in sorted((REPO / "classifier" / "corpus").iterdir()):
        if folder.is_dir():
            assert f"`{folder.name}/`" in readme, folder.name


def test_real_parts_load_after_the_written_corpus_and_count_in_its_hash(tmp_path: Path) -> None:
    from docproc_local.classifier.corpus import corpus_hash

    for label in LABELS:
        (tmp_path / "en").mkdir(exist_ok=True)
        (tmp_path / "en" / f"{label}.txt").write_text(f"written {label}\n---\nmore {label}", encoding="utf-8")
    before = corpus_hash(tmp_path)
    part = tmp_path / "real" / "debian-docs" / "de"
    part.mkdir(parents=True)
    (part / "technical.txt").write_text("Handbuch eins\n---\nHandbuch zwei", encoding="utf-8")
    examples = load_corpus(tmp_path)
    assert [e.source for e in examples[-2:]] == [
        "real/debian-docs/de/technical.txt#0",
        "real/debian-docs/de/technical.txt#1",
    ]
    assert (examples[-1].language, examples[-1].label) == ("de", "technical")
    assert corpus_hash(tmp_path) != before
    (tmp_path / "real" / "Bad_Name").mkdir()
    with pytest.raises(CorpusError, match=r"Bad_Name.*lower-case"):
        load_corpus(tmp_path)


def test_split_documents_splits_on_separator_lines_only() -> None:
    assert split_documents("one\n---\ntwo --- still two\n  ---  \n\nthree\n---\n") == [
        "one",
        "two --- still two",
        "three",
    ]


def test_corpus_errors_name_the_bad_file(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "sports.txt").write_text("a match", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"sports\.txt.*not a label"):
        load_corpus(tmp_path)
    (tmp_path / "en" / "sports.txt").unlink()
    (tmp_path / "english").mkdir()
    with pytest.raises(CorpusError, match="language codes"):
        load_corpus(tmp_path)


# --- the served artifact -----------------------------------------------------------------------------------------


def test_artifact_is_trained_with_the_container_scikit_learn() -> None:
    import sklearn

    metadata = artifact.read_metadata(artifact.ensure())
    assert sklearn.__version__ == "1.4.2"  # the sagemaker-scikit-learn 1.4-2 image's version (see template.yaml)
    assert metadata["scikit_learn"] == "1.4.2"
    assert metadata["labels"] == sorted(LABELS)
    assert set(REQUIRED_LANGUAGES) <= set(metadata["languages"])


@pytest.mark.parametrize("name", sorted(SAMPLE_DOMAINS))
def test_bundled_samples_get_their_domain(name: str) -> None:
    text = extract_text((REPO / "samples" / name).read_bytes(), name).text
    scores = served_classifier().scores(text[:60_000])
    assert max(scores, key=lambda label: scores[label]) == SAMPLE_DOMAINS[name]


@pytest.mark.parametrize(("text", "expected"), SHORT_TEXTS)
def test_short_obvious_texts_in_many_languages(text: str, expected: str) -> None:
    scores = served_classifier().scores(text)
    assert max(scores, key=lambda label: scores[label]) == expected, scores


def test_probabilities_are_calibrated_not_certain_on_gibberish() -> None:
    scores = served_classifier().scores("zqxv wplk mmrt ooqa fjjd kkel")
    top = max(scores, key=lambda label: scores[label])
    # "general" is the catch-all, so leaning to it is right; certainty about anything is not
    assert scores[top] < 0.9, scores
    assert top == "general" or scores[top] < 0.7, scores
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-4)


def test_a_one_megabyte_text_is_classified_from_a_bounded_sample() -> None:
    text = ("Invoice number 4711. Amount due 1,250.00 EUR. Payment terms 30 days. " * 15_000)[:1_000_000]
    served = served_classifier()
    served.scores(text)
    started = time.perf_counter()
    scores = served.scores(text)
    assert max(scores, key=lambda label: scores[label]) == "financial"
    assert time.perf_counter() - started < 5  # a bound against accidental quadratic work, not a benchmark


def test_ensure_rebuilds_a_stale_artifact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = artifact.ensure()
    target = tmp_path / "model.tar.gz"
    target.write_bytes(built.read_bytes())
    assert artifact.ensure(target) == target and target.read_bytes() == built.read_bytes()  # fresh: kept

    monkeypatch.setattr(artifact, "source_hash", lambda: "another-corpus")
    calls: list[Path] = []
    monkeypatch.setattr(artifact, "build", lambda output, **_: calls.append(output) or output)
    artifact.ensure(target)
    assert calls == [target]


def test_ensure_rebuilds_a_variant_trained_with_other_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "model.tar.gz"
    target.write_bytes(artifact.ensure().read_bytes())
    metadata = artifact.read_metadata(target)
    monkeypatch.setattr(artifact, "read_metadata", lambda _: {**metadata, "hyper": {**metadata["hyper"], "c": 9.0}})
    calls: list[Path] = []
    monkeypatch.setattr(artifact, "build", lambda output, **_: calls.append(output) or output)
    artifact.ensure(target)
    assert calls == [target]  # what `train --set c=9.0` left at the default path is not served as the default


def test_a_named_artifact_is_used_as_it_is_never_retrained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "variant.tar.gz"
    target.write_bytes(artifact.ensure().read_bytes())
    monkeypatch.setattr(artifact, "source_hash", lambda: "another-corpus")
    monkeypatch.setattr(artifact, "build", lambda *a, **k: pytest.fail("a named artifact must not be rebuilt"))
    assert artifact.chosen(target) == target
    assert "another corpus" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="does not exist"):
        artifact.chosen(tmp_path / "missing.tar.gz")
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(ValueError, match=r"not a model\.tar\.gz"):
        artifact.chosen(tmp_path / "junk.tar.gz")


def test_archive_has_the_container_layout() -> None:
    with tarfile.open(artifact.ensure(), "r:gz") as archive:
        names = sorted(archive.getnames())
    assert names == ["code/inference.py", "model.joblib", "model.json"]


# --- evaluation metrics --------------------------------------------------------------------------------------------


def _row(expected: str, predicted: str, confidence: float, language: str = "en") -> evaluate.Row:
    return evaluate.Row("f", expected, language, predicted, confidence)


def test_expected_calibration_error_on_known_data() -> None:
    rows = [
        _row("legal", "legal", 0.95),
        _row("legal", "legal", 0.95),
        _row("legal", "hr", 0.95),
        _row("hr", "hr", 0.95),  # bin 0.9-1.0: accuracy 0.75, confidence 0.95 -> gap 0.20
        _row("hr", "hr", 0.55),
        _row("hr", "legal", 0.55),  # bin 0.5-0.6: accuracy 0.5, confidence 0.55 -> gap 0.05
    ]
    ece, table = evaluate.calibration(rows)
    assert ece == pytest.approx(4 / 6 * 0.20 + 2 / 6 * 0.05)
    assert [(b["bin"], b["documents"]) for b in table] == [("0.5-0.6", 2), ("0.9-1.0", 4)]


def test_metrics_match_hand_counts() -> None:
    rows = [_row("legal", "legal", 0.9), _row("legal", "hr", 0.6), _row("hr", "hr", 0.8, "de")]
    result = evaluate.metrics(rows)
    assert result["per_domain"]["legal"]["recall"] == pytest.approx(0.5)
    assert result["per_domain"]["hr"]["precision"] == pytest.approx(0.5)
    assert result["per_language"]["de"]["accuracy"] == 1.0
    assert result["max_confidence_wrong"] == pytest.approx(0.6)


def test_macro_f1_averages_only_the_domains_that_occur() -> None:
    # GIVEN a folder with legal and hr documents only, one legal one taken for hr
    rows = [_row("legal", "legal", 0.9), _row("legal", "hr", 0.6), _row("hr", "hr", 0.8)]
    # WHEN it is scored
    result = evaluate.metrics(rows)
    # THEN the four domains it has no document of, and that were never answered, do not count as F1 0
    assert result["domains_scored"] == ["legal", "hr"]
    legal, hr = 2 * 1 * 0.5 / 1.5, 2 * 0.5 * 1 / 1.5
    assert result["macro_f1"] == pytest.approx((legal + hr) / 2)
    # AND a domain answered but never expected does count (precision 0)
    result = evaluate.metrics([*rows, _row("hr", "medical", 0.7)])
    assert result["domains_scored"] == ["legal", "medical", "hr"]


def test_labels_file_errors_name_the_row(tmp_path: Path) -> None:
    labels = tmp_path / "labels.tsv"
    labels.write_text("file\tdomain\tlanguage\na.pdf\tlegal\ten\nb.pdf\tsports\ten\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"row 3 \(b\.pdf\).*'sports'"):
        evaluate.read_labels(labels)


def test_evaluate_a_small_labelled_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("invoice2data-aws.pdf", "cuad-aduro-consulting-agreement.txt", "pdfminer-six-README.md"):
        (tmp_path / name).write_bytes((REPO / "samples" / name).read_bytes())
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "labels.tsv").write_text(
        "file\tdomain\tlanguage\ninvoice2data-aws.pdf\tfinancial\ten\ncuad-aduro-consulting-agreement.txt\tlegal\ten\n"
        "pdfminer-six-README.md\ttechnical\ten\nempty.txt\tgeneral\ten\n",
        encoding="utf-8",
    )
    result = evaluate.run(tmp_path, None, None, as_json=True)
    printed = json.loads(capsys.readouterr().out)
    assert result["documents_scored"] == 3 and result["accuracy"] == 1.0
    assert {r["file"]: r["skipped"] for r in printed["rows"]}["empty.txt"] == "no text: EMPTY_DOCUMENT"


# --- publish ---------------------------------------------------------------------------------------------------------


@mock_aws
def test_publish_uploads_once_under_a_content_hash_and_prints_the_override(tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="docproc-artifacts")
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(b"not really a model, but bytes with a hash")

    uri = publish.publish(archive, s3=s3, bucket="docproc-artifacts")
    again = publish.publish(archive, s3=s3, bucket="docproc-artifacts")

    assert uri == again
    assert uri.startswith("s3://docproc-artifacts/classifier/model-") and uri.endswith(".tar.gz")
    assert s3.list_objects_v2(Bucket="docproc-artifacts")["KeyCount"] == 1
    assert publish.override(uri) == f"ClassifierModelDataUri={uri}"


@mock_aws
def test_publish_finds_the_stack_bucket_from_its_outputs() -> None:
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(
        StackName="docproc",
        TemplateBody=json.dumps(
            {
                "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
                "Outputs": {"ArtifactsBucketName": {"Value": {"Ref": "Bucket"}}},
            }
        ),
    )
    bucket = publish.stack_bucket(cloudformation, "docproc")
    assert bucket == boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"][0]["Name"]


def test_development_set_labels_every_file() -> None:
    dev = REPO / "classifier" / "dev"
    labels = evaluate.read_labels(dev / "labels.tsv")
    files = {p.name for p in dev.iterdir() if p.is_file() and p.name not in evaluate.NOT_DOCUMENTS}
    assert files == set(labels)
    # every domain, medical included (FHIR example resources from npm, diabetes diaries from TeX Live in Debian)
    assert {domain for domain, _ in labels.values()} == set(LABELS)
    for name, (domain, language) in labels.items():
        assert name.startswith(f"{domain}-{language}-"), name  # the label is visible in the file name
        assert (dev / name).stat().st_size <= 30_000, name
