"""End to end with an experiment running, the local guardrail on and the default PII policy (mask): every sample
completes with its variant, no e-mail, phone or card number of the samples reaches an event, and a document the
guardrail blocks completes partial with GUARDRAIL_INTERVENED on its first attempt."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from conftest import E2E_PARAMETERS

from docproc import formats
from docproc_local.client import StackClient
from docproc_local.runtime import LocalRuntime

from stack_helpers import REPO, collect_events, events_for, validate_event

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SAMPLES = REPO / "samples"
# Found in the samples' text by hand (and by the patterns below); the test fails if the samples change under it.
KNOWN_EMAILS = {
    "ap@aduro.com",
    "richard.hendriks@mail.com",
    "lpritc@scri.ac.uk",
    "j.a.casbon@qmul.ac.uk",
    "mdehoon@ims.u-tokyo.ac.jp",
    "thamelry@vub.ac.be",
}
KNOWN_PHONES = {"(912) 555-4321", "800-273-8255", "877-995-5247"}
# The samples hold no card number: this document adds one (a test card), an SSN and an IBAN.
PAYMENT = (
    "PAYMENT AUTHORISATION\n\nCardholder email: billing.contact@example.net\nCard number: 4111 1111 1111 1111\n"
    "Phone: +1 415 555 0132\nSSN: 123-45-6789\nIBAN: GB82 WEST 1234 5698 7654 32\nAmount: USD 250.00\n"
)
CARDS = {"4111111111111111"}
EMAIL_RE = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def stack() -> Iterator[StackClient]:
    parameters = {**E2E_PARAMETERS, "ActiveExperiment": "demo", "GuardrailId": "docproclocal1"}
    local = LocalRuntime(template=REPO / "template.yaml", parameters=parameters)
    local.start()
    assert local.client is not None
    yield local.client
    local.stop()


def digits_pattern(number: str) -> re.Pattern[str]:
    """The number's digits in order, whatever separates them (a value may be reformatted)."""
    digits = re.sub(r"\D", "", number)
    return re.compile(r"\D{0,3}".join(digits))


def test_samples_with_mask_leak_no_email_phone_or_card_and_carry_their_variant(stack: StackClient) -> None:
    # GIVEN the samples (their texts really hold the known e-mails and phones) and a payment form
    texts = "\n".join(formats.extract_text(p.read_bytes(), key=p.name).text for p in sorted(SAMPLES.iterdir()))
    assert set(EMAIL_RE.findall(texts)) == KNOWN_EMAILS
    assert all(phone in texts for phone in KNOWN_PHONES)
    uploads = {stack.upload_file(p, key=f"pii/{p.name}").document_id: p.name for p in sorted(SAMPLES.iterdir())}
    uploads[stack.upload_bytes(PAYMENT.encode(), "pii/payment-form.txt").document_id] = "payment-form.txt"

    # WHEN they are processed with EventPiiPolicy at its default (mask)
    records = stack.wait_for(uploads, timeout=400)
    expected = len(uploads) + sum(1 for r in records.values() if r.get("needsReview"))
    events = collect_events(stack, lambda got: len(got) >= expected, timeout=60)

    # THEN every document completes, with an event valid against the schema
    assert {d: r["status"] for d, r in records.items()} == dict.fromkeys(uploads, "COMPLETED")
    processed = [e for e in events if e["detail-type"] == "Document Processed"]
    assert sorted(e["detail"]["documentId"] for e in processed) == sorted(uploads)
    for event in events:
        validate_event(event)
    # AND no e-mail, phone or card number of the documents is in any event, in any form
    published = json.dumps(events, ensure_ascii=False)
    secrets = KNOWN_EMAILS | {"billing.contact@example.net"}
    assert not [s for s in secrets if s in published]
    assert not EMAIL_RE.findall(published.replace("docproc", ""))
    for number in KNOWN_PHONES | CARDS | {"+1 415 555 0132"}:
        assert not digits_pattern(number).search(published), number
    assert "123-45-6789" not in published
    assert "GB82" not in published
    # AND the records keep the full values and say which policy applied
    resume = next(r for d, r in records.items() if uploads[d] == "jsonresume-sample-resume.json")
    assert resume["fields"]["email"]["value"] == "richard.hendriks@mail.com"
    assert all(r["piiPolicy"] == "mask" for r in records.values())
    resume_event = events_for(processed, resume["documentId"])[0]["detail"]
    assert resume_event["fields"]["email"]["value"] == "[EMAIL]"
    assert resume_event["pii"]["policy"] == "mask"
    assert resume_event["pii"]["redacted"]["email"] >= 1
    # AND every record, result JSON and event names its experiment variant; the variant's model did the extraction
    variants = {"control": "anthropic.claude-3-haiku-20240307-v1:0", "candidate": "amazon.nova-micro-v1:0"}
    for doc_id, record in records.items():
        assert record["experiment"]["name"] == "demo"
        assert record["extraction"]["modelId"] == variants[record["experiment"]["variant"]]
        assert stack.result_json(record)["experiment"] == record["experiment"]  # type: ignore[index]
        detail = events_for(processed, doc_id)[0]["detail"]
        assert detail["experiment"] == {"name": "demo", "variant": record["experiment"]["variant"]}


def test_guardrail_intervention_keeps_the_classification_and_is_not_retried(stack: StackClient) -> None:
    # GIVEN a document with a word on the local guardrail's list
    text = "MEMORANDUM\n\nClassification: TOP SECRET//NOFORN\n\nThe quarterly budget review is attached.\n"
    upload = stack.upload_bytes(text.encode(), "guardrail/memo.txt")
    record = stack.wait_for([upload.document_id], timeout=120)[upload.document_id]
    # THEN it completes on its first attempt with the classifier's result, the extraction missing and why
    assert record["status"] == "COMPLETED"
    assert record["attempt"] == 1
    assert record["partial"] is True
    assert record["classification"]["domain"]
    assert [(m["part"], m["reasonCode"]) for m in record["missing"]] == [("extraction", "GUARDRAIL_INTERVENED")]
    assert "word policy" in record["missing"][0]["message"]
    assert "extraction" not in record
