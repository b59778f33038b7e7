"""The Converse stand-in's typed class fields: class choice, field values with roles, evidence and confidences.

Every document here is written for these tests (no evaluation data): invoices in four languages, a receipt, two
contracts, résumés (text, JSON Resume raw and flattened), clinical notes, financial statements, an e-mail, a letter,
a form, a report and a note that fits no class.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from jsonschema import Draft202012Validator

from docproc import classes, evidence, extraction
from docproc_local.standins import StandinServer, converse
from docproc_local.standins.converse import ToolSpec
from docproc_local.standins.errors import ServiceError
from docproc_local.standins.fields import answer

CONFIG = classes.load()
TOOLS = [ToolSpec(c.tool_name, classes.tool_description(c), classes.tool_input_schema(c)) for c in CONFIG.classes]
MODEL_ID = "anthropic.claude-sonnet-4-5-20250929-v1:0"  # a strict-capable model: the pipeline sends strict: true

INVOICE_EN = """ACME Cloud Services Ltd.
12 Harbour Street, Bristol BS1 4DJ, United Kingdom
VAT Reg No: GB123456789

INVOICE

Invoice Number: INV-2024-00123
Invoice Date: March 5, 2024
Due Date: 04/04/2024
Purchase Order No: PO-7781

Bill To:
Northwind Traders Inc.
400 Market Street, Suite 12, San Francisco, CA 94105

Description                         Qty   Unit Price     Amount
Cloud hosting (March 2024)            1    $1,200.00   $1,200.00
Premium support                       1      $350.00     $350.00
Credit for outage on 2024-02-20       1     ($75.50)    ($75.50)

Subtotal: $1,474.50
Tax (8.5%): $125.33
Total Due: USD 1,599.83
"""

INVOICE_DE = """Müller & Söhne GmbH · Hauptstraße 5 · 80331 München

Rechnungsempfänger:
Beispiel AG
Ringstraße 12
10115 Berlin

RECHNUNG

Rechnungsnummer: RE-2024-0815
Rechnungsdatum: 12.03.2024
Lieferdatum: 08.03.2024
Zahlbar bis: 11.04.2024

Pos. | Bezeichnung            | Menge | Einzelpreis | Gesamt
1    | Wartung Heizungsanlage | 2     | 150,00 €    | 300,00 €
2    | Ersatzteile            | 1     | 89,90 €     | 89,90 €

Nettobetrag: 389,90 €
MwSt. 19 %: 74,08 €
Gesamtbetrag: 463,98 €
"""

INVOICE_FR = """Atelier Lumière SARL
8 rue des Lilas, 69003 Lyon

FACTURE N° F2024-117

Date de facture : 2 avril 2024
Date d'échéance : 2 mai 2024

Client :
Boulangerie Dupont

Désignation                    Qté    Prix unitaire    Montant HT
Création du logo               1      1 200,00 €       1 200,00 €
Cartes de visite (500)         2        45,00 €          90,00 €

Total HT : 1 290,00 €
TVA 20 % : 258,00 €
Total TTC : 1 548,00 €
"""

INVOICE_ES = """Soluciones Norte S.L.
CIF B12345678

Factura n.º: 2024/0042
Fecha de emisión: 15/01/2024
Vencimiento: 14/02/2024
Facturar a: Hotel Mirador S.A.

Concepto | Cantidad | Precio | Importe
Mantenimiento web | 3 | 120,00 | 360,00

Base imponible: 360,00 EUR
IVA (21%): 75,60 EUR
Total factura: 435,60 EUR
"""

RECEIPT_DE = """CAFÉ CENTRAL
Marienplatz 3, München

Beleg-Nr. 4711          14.06.2024 12:31

Cappuccino                 3,80
Croissant                  2,50
Mineralwasser              2,90

SUMME EUR                  9,20
MwSt 19%                   1,47
Gegeben Bar               10,00
Rückgeld                   0,80

Vielen Dank für Ihren Einkauf!
"""

CONTRACT_EN = """MASTER SERVICES AGREEMENT

This Master Services Agreement (the "Agreement") is entered into as of 1 July 2023 (the "Effective Date") by and
between Globex Corporation, a Delaware corporation ("Client"), and Initech Software GmbH, a company organised under
the laws of Germany ("Provider").

WHEREAS, Client wishes to engage Provider to develop and maintain software;

NOW, THEREFORE, the parties agree as follows:

1. Fees. Client shall pay Provider a total fee of €540,000.00 within thirty (30) days of receipt of an invoice.
2. Term. This Agreement shall continue for a period of three (3) years. It shall remain in force until June 30, 2026.
3. Renewal. This Agreement shall automatically renew for successive one-year terms unless either party objects.
4. Termination. Either party may terminate this Agreement upon sixty (60) days' prior written notice.
5. Governing Law. This Agreement shall be governed by the laws of the State of New York, without regard to its
conflict of laws principles.
"""

CONTRACT_DE = """Dienstleistungsvertrag

zwischen

Alpha Logistik GmbH, Industriestraße 4, 70565 Stuttgart
\u2013 nachfolgend „Auftraggeber" genannt \u2013

und

Beta IT-Service UG, Lindenweg 2, 04109 Leipzig
\u2013 nachfolgend „Auftragnehmer" genannt \u2013

§ 1 Laufzeit
Der Vertrag tritt am 01.09.2024 in Kraft und wird für einen Zeitraum von 24 Monaten geschlossen. Er verlängert sich
automatisch um ein weiteres Jahr, wenn er nicht mit einer Kündigungsfrist von drei Monaten gekündigt wird.

§ 2 Schlussbestimmungen
Dieser Vertrag unterliegt deutschem Recht.

Stuttgart, den 15.08.2024
"""

RESUME = """Jane Doe
Senior Backend Engineer
jane.doe@example.com | +44 7700 900123 | London, UK

Experience
Senior Backend Engineer, Fintech Ltd (2020 \u2013 present)
- Led the migration of the ledger to event sourcing.
Software Developer at Webshop GmbH, Jan 2016 \u2013 Dec 2019
- Built the checkout service.

Education
University of Manchester — BSc Computer Science, 2015

Skills
Python, Go, PostgreSQL, Kafka
"""

JSON_RESUME = {
    "basics": {"name": "Richard Roe", "label": "Data Scientist", "email": "richard@example.org"},
    "work": [
        {"name": "Acme Analytics", "position": "Lead Data Scientist", "startDate": "2019-04-01"},
        {"name": "Data Corp", "position": "Analyst", "startDate": "2015-06-01", "endDate": "2019-03-31"},
    ],
    "skills": [{"name": "Machine Learning", "keywords": ["PyTorch", "scikit-learn"]}],
}

CLINICAL_EN = """PROGRESS NOTE

Patient: Maria Gonzalez        DOB: 03/14/1968        MRN: 00123456
Date of Service: 2024-02-11
Provider: Dr. Alan Smith, MD

Chief Complaint: Shortness of breath for three days.

HPI: 55-year-old female with a history of COPD presents with worsening dyspnea and productive cough.

Medications:
- Tiotropium 18 mcg inhaled daily
- Lisinopril 10 mg PO daily

Allergies: Penicillin, sulfa drugs

Vitals: BP 138/86, HR 96, SpO2 91% on room air.

Assessment and Plan:
1. COPD exacerbation - start prednisone 40 mg daily for 5 days.
2. Hypertension, controlled - continue lisinopril.
"""

CLINICAL_DE = """Entlassungsbrief

Patientin: Erika Mustermann, 72 Jahre
Aufnahmedatum: 03.05.2024
Behandelnde Ärztin: Dr. med. Petra Klein

Diagnosen:
- Ambulant erworbene Pneumonie
- Diabetes mellitus Typ 2

Medikation: Metformin 500 mg 1-0-1, Ramipril 5 mg 1-0-0

Allergien: keine bekannten Allergien
"""

BALANCE_SHEET_CSV = """Contoso Holdings Inc.
Consolidated Balance Sheets (in millions of USD)
Line item,December 31 2024,December 31 2023
Cash and cash equivalents,"1,204","1,010"
Total assets,"52,310","48,877"
Total liabilities,"30,115","29,402"
Total stockholders' equity,"22,195","19,475"
Total liabilities and stockholders' equity,"52,310","48,877"
"""

EARNINGS = """Fabrikam Corp Reports Fourth Quarter 2024 Results

REDMOND, Wash. — January 28, 2025 — Fabrikam Corp today announced results for the quarter ended December 31, 2024.

CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS
(In thousands, except per share amounts)
                              Dec 31, 2024    Dec 31, 2023
Total revenue                   $ 845,120       $ 790,004
Net income                      $ 112,400       $  98,310
"""

LONG_CSV = """company | period | line_item | value
Northwind plc | 2023-12-31 | Revenue | 1200.5
Northwind plc | 2024-12-31 | Revenue | 1350.0
Northwind plc | 2023-12-31 | Net income | 80.1
Northwind plc | 2024-12-31 | Net income | 95.3
"""

EMAIL = """Subject: Quarterly planning meeting moved
From: Tom Baker <tom.baker@example.com>
To: Ana Silva <ana.silva@example.com>, Raj Patel <raj@example.com>
Date: Tue, 5 Mar 2024 09:15:00 +0000

Hi Ana,

The quarterly planning meeting is moved to Thursday at 10:00 because the main room is being renovated.

Thanks,
Tom
"""

LETTER_DE = """Stadtwerke Musterstadt
Postfach 12 34
12345 Musterstadt

Herrn
Klaus Weber
Gartenweg 7
12345 Musterstadt

Musterstadt, 14. Februar 2024

Betreff: Ihre Jahresabrechnung 2023

Sehr geehrter Herr Weber,

wir übersenden Ihnen hiermit Ihre Jahresabrechnung für das Jahr 2023 und bitten um Begleichung des Betrags.

Mit freundlichen Grüßen

Sabine Kraus
"""

FORM = """Department of Motor Vehicles
Application for Replacement Driver License
Form DL-44 (Rev. 2023)

Please print clearly. Check the appropriate box.

Full name: Peter Novak
Date of birth: 07/21/1985
License number: D1234567
Reason for replacement: ____________
[x] Lost   [ ] Stolen   [ ] Damaged

Signature of applicant: ______________
"""

REPORT = """Urban Heat Islands in Mid-Sized European Cities

Lena Fischer, Marco Rossi and Julia Novak
Institute for Climate Research, University of Utrecht

Technical Report No. TR-2024-07
Published: 12 September 2024

Abstract
We measure surface temperatures in twelve mid-sized European cities and relate urban heat islands to land cover.

1. Introduction
Urban heat islands raise night-time temperatures. Land cover and tree canopy explain most of the variance.
"""

OTHER = """Shopping list for the weekend trip, written on 3 May 2024.
Ask Mr. Jonas Berg whether Contoso Ltd still rents out kayaks. Return by 5 May 2024.
"""

DOCUMENTS = {
    "invoice_en": (INVOICE_EN, "invoice"),
    "invoice_de": (INVOICE_DE, "invoice"),
    "invoice_fr": (INVOICE_FR, "invoice"),
    "invoice_es": (INVOICE_ES, "invoice"),
    "receipt_de": (RECEIPT_DE, "receipt"),
    "contract_en": (CONTRACT_EN, "contract"),
    "contract_de": (CONTRACT_DE, "contract"),
    "resume": (RESUME, "resume"),
    "json_resume": (json.dumps(JSON_RESUME, indent=2), "resume"),
    "clinical_en": (CLINICAL_EN, "clinical_note"),
    "clinical_de": (CLINICAL_DE, "clinical_note"),
    "balance_sheet": (BALANCE_SHEET_CSV, "financial_statement"),
    "earnings": (EARNINGS, "financial_statement"),
    "long_csv": (LONG_CSV, "financial_statement"),
    "email": (EMAIL, "letter"),
    "letter_de": (LETTER_DE, "letter"),
    "form": (FORM, "form"),
    "report": (REPORT, "report"),
    "other": (OTHER, "other"),
}


def _fields(text: str, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    name, tool_input = answer(text, TOOLS, **kwargs)
    return name, tool_input["fields"]


def _values(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: [e["value"] for e in v] if isinstance(v, list) else v["value"] for k, v in fields.items()}


# --- class choice, schema, evidence --------------------------------------------------------------------------------


@pytest.mark.parametrize(("key"), sorted(DOCUMENTS))
def test_each_document_gets_its_class_tool_and_a_valid_input_whose_quotes_are_verbatim(key: str) -> None:
    text, expected = DOCUMENTS[key]

    name, tool_input = answer(text, TOOLS)

    # THEN the class tool fits, the input validates against that tool's schema ...
    assert name == f"record_{expected}"
    assert not list(Draft202012Validator(classes.tool_input_schema(CONFIG.get(expected))).iter_errors(tool_input))
    assert tool_input["fields"], "no field found"
    # ... and the pipeline's evidence check finds every quote, on the stated page, with an honest confidence
    checked = evidence.check_fields(tool_input["fields"], text)
    for field_name, item in checked.items():
        for value in item if isinstance(item, list) else [item]:
            assert value.evidence.found, (field_name, value.evidence.quote)
            assert "page_corrected" not in value.flags, field_name
            assert 0 < value.model_confidence < 1, field_name


def test_a_forced_tool_is_answered_even_when_another_class_fits_better() -> None:
    name, fields = _fields(INVOICE_EN, forced="record_letter")

    assert name == "record_letter"
    assert "total" not in fields


def test_only_offered_tools_are_chosen_and_nothing_fitting_means_other() -> None:
    offered = [tool for tool in TOOLS if tool.name in ("record_resume", "record_other")]

    assert answer(INVOICE_EN, offered)[0] == "record_other"
    assert answer(RESUME, offered)[0] == "record_resume"


def test_an_unknown_class_is_chosen_by_word_overlap_and_filled_from_labelled_values() -> None:
    # GIVEN a class a user added, with fields the stand-in has no specialised code for
    custom = classes.from_dict(
        {
            "version": "t",
            "system_prompt": "x",
            "classes": [
                {
                    "name": "purchase_order",
                    "description": "A buyer's order to a supplier for goods, with a PO number and a delivery date.",
                    "schema": {
                        "type": "object",
                        "properties": {
                            "po_number": {"type": "string"},
                            "delivery_date": {"type": "string", "format": "date"},
                            "supplier": {"type": "string"},
                            "total_amount": {"type": "number"},
                            "incoterms": {"type": "string", "enum": ["EXW", "FOB", "DDP"]},
                            "approvers": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
                {
                    "name": "other",
                    "description": "x",
                    "schema": {"type": "object", "properties": {"x": {"type": "string"}}},
                },
            ],
        }
    ).get("purchase_order")
    tools = [*TOOLS, ToolSpec(custom.tool_name, classes.tool_description(custom), classes.tool_input_schema(custom))]
    text = (
        "PURCHASE ORDER\n\nPO Number: 4500012345\nSupplier: Fabrikam Components BV\nDelivery date: 2024-07-01\n"
        "Incoterms: DDP Rotterdam\nApprovers: Anna Berg, Luis Ortega\n\nTotal amount: 60.00 EUR\n"
    )

    name, tool_input = answer(text, tools)

    assert name == "record_purchase_order"
    assert _values(tool_input["fields"]) == {
        "po_number": "4500012345",
        "delivery_date": "2024-07-01",
        "supplier": "Fabrikam Components BV",
        "total_amount": 60,
        "incoterms": "DDP",
        "approvers": ["Anna Berg", "Luis Ortega"],
    }
    assert tool_input["fields"]["supplier"]["evidence"]["quote"] == "Supplier: Fabrikam Components BV"
    assert tool_input["fields"]["supplier"]["confidence"] <= 0.6  # a generic label match is no specialised find


def test_pages_count_form_feeds_before_the_quote() -> None:
    text = INVOICE_EN.replace("Bill To:", "\fBill To:")

    _, fields = _fields(text)

    assert fields["invoice_number"]["evidence"]["page"] == 1
    assert fields["recipient"]["evidence"]["page"] == 2
    assert fields["total"]["evidence"]["page"] == 2
    assert "\f" not in fields["recipient"]["evidence"]["quote"]


def test_the_answer_is_deterministic() -> None:
    assert answer(CONTRACT_EN, TOOLS) == answer(CONTRACT_EN, TOOLS)


# --- invoices and receipts -----------------------------------------------------------------------------------------


def test_invoice_fields_take_their_roles_from_labels() -> None:
    _, fields = _fields(INVOICE_EN)
    values = _values(fields)

    assert values["invoice_number"] == "INV-2024-00123"
    assert values["issue_date"] == "2024-03-05"  # "Invoice Date", not the due date nor the credit's date
    assert values["due_date"] == "2024-04-04"
    assert values["issuer"] == "ACME Cloud Services Ltd."  # the letterhead
    assert values["recipient"] == "Northwind Traders Inc."  # under "Bill To:"
    assert (values["subtotal"], values["tax"], values["total"]) == (1474.5, 125.33, 1599.83)
    assert values["currency"] == "USD"
    assert values["purchase_order"] == "PO-7781"
    assert values["line_items"] == [
        {"description": "Cloud hosting (March 2024)", "quantity": 1, "unit_price": 1200, "amount": 1200},
        {"description": "Premium support", "quantity": 1, "unit_price": 350, "amount": 350},
        {"description": "Credit for outage on 2024-02-20", "quantity": 1, "unit_price": -75.5, "amount": -75.5},
    ]
    assert fields["total"]["evidence"]["quote"] == "Total Due: USD 1,599.83"
    assert fields["tax"]["evidence"]["quote"] == "Tax (8.5%): $125.33"
    assert fields["total"]["confidence"] >= 0.85
    assert fields["issuer"]["confidence"] < fields["total"]["confidence"]  # a layout guess, not a label


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            INVOICE_DE,
            {
                "invoice_number": "RE-2024-0815",
                "issue_date": "2024-03-12",
                "due_date": "2024-04-11",
                "issuer": "Müller & Söhne GmbH",
                "recipient": "Beispiel AG",
                "subtotal": 389.9,
                "tax": 74.08,
                "total": 463.98,
                "currency": "EUR",
            },
        ),
        (
            INVOICE_FR,
            {
                "invoice_number": "F2024-117",
                "issue_date": "2024-04-02",
                "due_date": "2024-05-02",
                "issuer": "Atelier Lumière SARL",
                "recipient": "Boulangerie Dupont",
                "subtotal": 1290,
                "tax": 258,
                "total": 1548,
                "currency": "EUR",
            },
        ),
        (
            INVOICE_ES,
            {
                "invoice_number": "2024/0042",
                "issue_date": "2024-01-15",
                "due_date": "2024-02-14",
                "issuer": "Soluciones Norte S.L.",
                "recipient": "Hotel Mirador S.A.",
                "subtotal": 360,
                "tax": 75.6,
                "total": 435.6,
                "currency": "EUR",
            },
        ),
    ],
    ids=["de", "fr", "es"],
)
def test_invoices_in_other_languages(text: str, expected: dict[str, Any]) -> None:
    _, fields = _fields(text)

    values = _values(fields)
    assert {name: values.get(name) for name in expected} == expected
    assert values["line_items"][0]["unit_price"] * values["line_items"][0]["quantity"] == pytest.approx(
        values["line_items"][0]["amount"]
    )


def test_receipt_fields() -> None:
    _, fields = _fields(RECEIPT_DE)
    values = _values(fields)

    assert values["merchant"] == "CAFÉ CENTRAL"
    assert values["receipt_number"] == "4711"
    assert values["transaction_date"] == "2024-06-14"
    assert (values["total"], values["tax"], values["currency"]) == (9.2, 1.47, "EUR")
    assert values["payment_method"] == "Cash"
    assert values["items"] == [
        {"description": "Cappuccino", "amount": 3.8},
        {"description": "Croissant", "amount": 2.5},
        {"description": "Mineralwasser", "amount": 2.9},
    ]


# --- contracts -----------------------------------------------------------------------------------------------------


def test_contract_parties_dates_and_clauses() -> None:
    _, fields = _fields(CONTRACT_EN)
    values = _values(fields)

    assert values["contract_type"] == "Master Services Agreement"
    assert values["parties"] == [
        {"name": "Globex Corporation", "role": "Client"},
        {"name": "Initech Software GmbH", "role": "Provider"},
    ]
    assert values["agreement_date"] == "2023-07-01"
    assert values["effective_date"] == "2023-07-01"
    assert values["expiration_date"] == "2026-06-30"
    assert values["term"] == "three (3) years"
    assert values["governing_law"] == "State of New York"  # not "Germany" from the party's description
    assert values["renewal"].startswith("This Agreement shall automatically renew")
    assert values["termination_notice"] == "sixty (60) days' prior written notice"
    assert (values["total_value"], values["currency"]) == (540000, "EUR")
    assert "governed by the laws of the State of New York" in fields["governing_law"]["evidence"]["quote"]


def test_german_contract() -> None:
    _, fields = _fields(CONTRACT_DE)
    values = _values(fields)

    assert values["parties"] == [
        {"name": "Alpha Logistik GmbH", "role": "Auftraggeber"},
        {"name": "Beta IT-Service UG", "role": "Auftragnehmer"},
    ]
    assert values["effective_date"] == "2024-09-01"
    assert values["agreement_date"] == "2024-08-15"  # "Stuttgart, den 15.08.2024" by the signatures
    assert fields["agreement_date"]["confidence"] < fields["effective_date"]["confidence"]
    assert values["term"] == "24 Monaten"
    assert values["governing_law"] == "Germany"
    assert fields["governing_law"]["evidence"]["quote"] == "Dieser Vertrag unterliegt deutschem Recht."
    assert values["termination_notice"] == "Kündigungsfrist von drei Monaten"
    assert "verlängert sich" in values["renewal"]


# --- résumés -------------------------------------------------------------------------------------------------------


def test_resume_from_its_sections() -> None:
    _, fields = _fields(RESUME)
    values = _values(fields)

    assert values["name"] == "Jane Doe"
    assert values["email"] == "jane.doe@example.com"
    assert values["phone"] == "+44 7700 900123"
    assert values["headline"] == "Senior Backend Engineer"
    assert values["skills"] == ["Python", "Go", "PostgreSQL", "Kafka"]
    assert values["employers"] == [
        {"name": "Fintech Ltd", "title": "Senior Backend Engineer", "start": "2020", "end": "present"},
        {"name": "Webshop GmbH", "title": "Software Developer", "start": "2016-01", "end": "2019-12"},
    ]
    assert values["education"] == [
        {"institution": "University of Manchester", "degree": "BSc Computer Science", "year": "2015"}
    ]


@pytest.mark.parametrize("flattened", [False, True], ids=["raw-json", "pipeline-flattened"])
def test_json_resume_by_its_paths(flattened: bool) -> None:
    text = json.dumps(JSON_RESUME, indent=2)
    if flattened:  # what the pipeline's text extraction sends for a .json file
        text = (
            "basics.name: Richard Roe\nbasics.label: Data Scientist\nbasics.email: richard@example.org\n"
            "work[0].name: Acme Analytics\nwork[0].position: Lead Data Scientist\nwork[0].startDate: 2019-04-01\n"
            "work[1].name: Data Corp\nwork[1].position: Analyst\nwork[1].startDate: 2015-06-01\n"
            "work[1].endDate: 2019-03-31\nskills[0].name: Machine Learning\nskills[0].keywords[0]: PyTorch\n"
            "skills[0].keywords[1]: scikit-learn\n"
        )

    name, fields = _fields(text)
    values = _values(fields)

    assert name == "record_resume"
    assert values["name"] == "Richard Roe"
    assert values["headline"] == "Data Scientist"
    assert values["skills"] == ["Machine Learning", "PyTorch", "scikit-learn"]
    assert values["employers"] == [
        {"name": "Acme Analytics", "title": "Lead Data Scientist", "start": "2019-04", "end": "present"},
        {"name": "Data Corp", "title": "Analyst", "start": "2015-06", "end": "2019-03"},
    ]
    assert "Richard Roe" in fields["name"]["evidence"]["quote"]


# --- clinical notes ------------------------------------------------------------------------------------------------


def test_clinical_note_fields_and_lists() -> None:
    _, fields = _fields(CLINICAL_EN)
    values = _values(fields)

    assert values["note_type"] == "Progress note"
    assert values["patient_name"] == "Maria Gonzalez"
    assert (values["patient_age"], values["patient_sex"]) == (55, "female")
    assert values["date_of_service"] == "2024-02-11"  # not the date of birth
    assert values["provider"] == "Dr. Alan Smith, MD"
    assert values["chief_complaint"] == "Shortness of breath for three days."
    assert values["diagnoses"] == ["COPD exacerbation", "Hypertension, controlled"]
    assert values["medications"] == ["Tiotropium 18 mcg inhaled daily", "Lisinopril 10 mg PO daily"]
    assert values["allergies"] == ["Penicillin", "sulfa drugs"]


def test_german_clinical_note() -> None:
    _, fields = _fields(CLINICAL_DE)
    values = _values(fields)

    assert values["patient_name"] == "Erika Mustermann"
    assert (values["patient_age"], values["patient_sex"]) == (72, "female")
    assert values["date_of_service"] == "2024-05-03"
    assert values["provider"] == "Dr. med. Petra Klein"
    assert values["diagnoses"] == ["Ambulant erworbene Pneumonie", "Diabetes mellitus Typ 2"]
    assert values["medications"] == ["Metformin 500 mg 1-0-1", "Ramipril 5 mg 1-0-0"]
    assert values["allergies"] == ["keine bekannten Allergien"]


# --- financial statements ------------------------------------------------------------------------------------------


def test_balance_sheet_csv_multiplies_out_millions_and_takes_the_latest_period() -> None:
    _, fields = _fields(BALANCE_SHEET_CSV)
    values = _values(fields)

    assert values["company"] == "Contoso Holdings Inc."
    assert values["statement_type"] == "balance sheet"
    assert values["period_end"] == "2024-12-31"
    assert values["total_assets"] == 52_310_000_000
    assert values["total_liabilities"] == 30_115_000_000  # not the "liabilities and equity" total
    assert values["total_equity"] == 22_195_000_000
    assert values["currency"] == "USD"


def test_earnings_release_in_thousands() -> None:
    _, fields = _fields(EARNINGS)
    values = _values(fields)

    assert values["company"] == "Fabrikam Corp"
    assert values["statement_type"] == "earnings release"
    assert values["period_end"] == "2024-12-31"
    assert (values["revenue"], values["net_income"]) == (845_120_000, 112_400_000)
    assert values["currency"] == "USD"


def test_long_csv_takes_the_latest_period_row() -> None:
    _, fields = _fields(LONG_CSV)
    values = _values(fields)

    assert (values["company"], values["period_end"]) == ("Northwind plc", "2024-12-31")
    assert (values["revenue"], values["net_income"]) == (1350, 95.3)
    assert fields["revenue"]["evidence"]["quote"] == "Northwind plc | 2024-12-31 | Revenue | 1350.0"


# --- letters, forms, reports, other --------------------------------------------------------------------------------


def test_email_headers() -> None:
    _, fields = _fields(EMAIL)
    values = _values(fields)

    assert values["sender"] == "Tom Baker <tom.baker@example.com>"
    assert values["recipients"] == ["Ana Silva <ana.silva@example.com>", "Raj Patel <raj@example.com>"]
    assert values["date"] == "2024-03-05"
    assert values["subject"] == "Quarterly planning meeting moved"
    assert values["purpose"].startswith("The quarterly planning meeting is moved")
    assert fields["purpose"]["confidence"] <= 0.5


def test_letter_layout() -> None:
    _, fields = _fields(LETTER_DE)
    values = _values(fields)

    assert values["sender"] == "Sabine Kraus"  # under the sign-off
    assert values["recipients"] == ["Klaus Weber"]  # the address block under "Herrn"
    assert values["date"] == "2024-02-14"
    assert values["subject"] == "Ihre Jahresabrechnung 2023"


def test_form_fields() -> None:
    _, fields = _fields(FORM)
    values = _values(fields)

    assert values["form_title"] == "Application for Replacement Driver License"
    assert values["form_number"] == "DL-44"
    assert values["issuing_authority"] == "Department of Motor Vehicles"
    assert values["person_name"] == "Peter Novak"
    assert "form_year" not in values  # "Rev. 2023" is a revision, not the form's year
    assert {"label": "License number", "value": "D1234567"} in values["filled_fields"]
    assert {"label": "Lost", "value": "checked"} in values["filled_fields"]
    assert not any(item["label"].startswith("Reason") for item in values["filled_fields"])  # left blank


def test_report_fields() -> None:
    _, fields = _fields(REPORT)
    values = _values(fields)

    assert values["report_title"] == "Urban Heat Islands in Mid-Sized European Cities"
    assert values["authors"] == ["Lena Fischer", "Marco Rossi", "Julia Novak"]
    assert values["organisation"] == "Institute for Climate Research, University of Utrecht"
    assert values["publication_date"] == "2024-09-12"
    assert values["report_number"] == "Technical Report No. TR-2024-07"


def test_other_lists_dates_organisations_and_people() -> None:
    _, fields = _fields(OTHER)

    assert _values(fields) == {
        "dates": ["2024-05-03", "2024-05-05"],
        "organisations": ["Contoso Ltd"],
        "people": ["Jonas Berg"],
    }


# --- bounded work --------------------------------------------------------------------------------------------------


@pytest.mark.timeout(120)  # a hang guard, not a speed test
def test_work_is_bounded_on_long_and_pathological_texts() -> None:
    for text in (
        (INVOICE_EN + "\n") * 400,  # 200k+ characters
        "Invoice total 12.00 tax 1.00 due 2024-01-02 " * 5000,  # one enormous line full of labels
        "lorem ipsum dolor sit amet " * 8000,
    ):
        for forced in (None, "record_contract", "record_letter", "record_financial_statement", "record_form"):
            name, tool_input = answer(text, TOOLS, forced=forced)
            assert name.startswith("record_"), (text[:30], forced)
            assert isinstance(tool_input["fields"], dict)


# --- through Converse ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bedrock() -> Any:
    with StandinServer(environ={}) as server:
        yield boto3.client(
            "bedrock-runtime",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"total_max_attempts": 1}),
        )


def test_the_pipeline_extraction_runs_against_the_stand_in(bedrock: BaseClient) -> None:
    # WHEN the extract step sends its real request (one strict tool per class, toolChoice any)
    result = extraction.extract(INVOICE_DE, bedrock=bedrock, model_id=MODEL_ID, max_input_chars=100_000)

    # THEN the stand-in picked the invoice tool and every field's quote is verified
    assert result.document_class == "invoice"
    assert not result.repaired
    assert result.unverified_fields == []
    assert result.fields is not None
    total = result.fields["total"]
    assert not isinstance(total, list)
    assert (total.value, total.evidence.found, total.flags) == (463.98, True, [])


@pytest.mark.parametrize("choice", [{"any": {}}, {"auto": {}}, {"tool": {"name": "record_report"}}])
def test_converse_tool_choice(bedrock: BaseClient, choice: dict[str, Any]) -> None:
    tool_config = classes.tool_config(CONFIG, MODEL_ID)
    response = bedrock.converse(
        modelId=MODEL_ID,
        messages=[{"role": "user", "content": [{"text": f"<document>\n{CONTRACT_EN}\n</document>\nRecord it."}]}],
        toolConfig={**tool_config, "toolChoice": choice},
    )

    [block] = response["output"]["message"]["content"]
    assert response["stopReason"] == "tool_use"
    assert block["toolUse"]["name"] == ("record_report" if "tool" in choice else "record_contract")


def _request(strict: Any) -> bytes:
    spec = dict(classes.tool_config(CONFIG, MODEL_ID)["tools"][0]["toolSpec"], strict=strict)
    return json.dumps(
        {
            "messages": [{"role": "user", "content": [{"text": INVOICE_EN}]}],
            "toolConfig": {"tools": [{"toolSpec": spec}]},
        }
    ).encode()


def test_strict_must_be_a_boolean() -> None:
    request = converse.parse_request(MODEL_ID, _request(True))
    assert request.tools[0].strict is True

    with pytest.raises(ServiceError) as raised:
        converse.parse_request(MODEL_ID, _request("yes"))
    assert raised.value.code == "ValidationException"
    assert "strict" in str(raised.value)


def test_a_box_counts_as_a_form_checkbox_only_with_its_label() -> None:
    from docproc_local.standins.fields import classify

    boxes = next(pattern for weight, pattern in classify.CUES["form"] if "☐" in pattern.pattern)
    assert boxes.findall("☐ yes   ☒ no\n[x] married\n( ) single")
    # a proof's end, a bullet alone, an equivalence class: not checkboxes
    assert not boxes.findall("damit ist die behauptung gezeigt. ■\n[x] = {y : y ~ x}\n■\n")
