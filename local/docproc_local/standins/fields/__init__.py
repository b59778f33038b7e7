"""Typed class fields for the Converse stand-in: pick the class tool that fits a document and fill its fields.

The pipeline offers one tool per document class (``record_<class>``, see ``docproc.classes``). :func:`answer`
chooses the tool (:mod:`.classify`), fills the class's ``fields`` from the text with a specialised filler per
bundled class (:mod:`.invoice`, :mod:`.contract`, :mod:`.resume`, :mod:`.clinical`, :mod:`.finance`,
:mod:`.correspondence`) and the labelled-value filler (:mod:`.generic`) for classes and fields it has no code for,
and wraps every value as ``{value, confidence, evidence: {page, quote}}`` with a verbatim quote. The generic
insights (title, summary, language, domain hint, key phrases) are the extractor's.

Confidence rules: about 0.9 next to an explicit label, 0.7-0.8 from a strong pattern (a table header, a defined
term), 0.5 or less for a heuristic (the first line as the sender, the first date as the document's date), never
1.0. A field the text does not state is omitted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from docproc_local.standins.extractor import extract_insights
from docproc_local.standins.fields import classify, clinical, contract, correspondence, finance, generic, invoice
from docproc_local.standins.fields import resume as resume_fields
from docproc_local.standins.fields.context import Context, Filled, json_values
from docproc_local.standins.fields.source import Hit, Source
from docproc_local.standins.insights.language import detect_language
from docproc_local.standins.insights.text import _parse_json
from docproc_local.standins.schema_tools import conform, validator_for

if TYPE_CHECKING:
    from docproc_local.standins.converse import ToolSpec

TOOL_PREFIX = "record_"
OUTPUT_BUDGET = 12_000  # characters of serialized tool input (the pipeline allows 4096 output tokens)

Filler = Callable[[Context], Filled]
#: class name -> (filler, the fields it has specialised code for; others go to the generic filler)
FILLERS: dict[str, tuple[Filler, frozenset[str]]] = {
    "invoice": (invoice.fill_invoice, invoice.INVOICE_FIELDS),
    "receipt": (invoice.fill_receipt, invoice.RECEIPT_FIELDS),
    "contract": (contract.fill, contract.FIELDS),
    "resume": (resume_fields.fill, resume_fields.FIELDS),
    "clinical_note": (clinical.fill, clinical.FIELDS),
    "financial_statement": (finance.fill, finance.FIELDS),
    "form": (generic.fill_form, generic.FORM_FIELDS),
    "letter": (correspondence.fill_letter, correspondence.LETTER_FIELDS),
    "report": (correspondence.fill_report, correspondence.REPORT_FIELDS),
    "other": (generic.fill_other, generic.OTHER_FIELDS),
}


def is_class_tool(tool: ToolSpec) -> bool:
    """Whether a tool is a document-class tool: ``record_<class>`` with a ``fields`` object in its input."""
    fields = tool.schema.get("properties", {}).get("fields") if isinstance(tool.schema, dict) else None
    return tool.name.startswith(TOOL_PREFIX) and isinstance(fields, dict) and fields.get("type") == "object"


def _value_schemas(tool: ToolSpec) -> tuple[dict[str, dict[str, Any]], frozenset[str]]:
    properties = tool.schema.get("properties", {}).get("fields", {}).get("properties", {})
    schemas: dict[str, dict[str, Any]] = {}
    lists: set[str] = set()
    for name, sub in properties.items():
        if not isinstance(sub, dict):
            continue
        envelope = sub.get("items") if sub.get("type") == "array" else sub
        if not isinstance(envelope, dict):
            continue
        value = envelope.get("properties", {}).get("value")
        if isinstance(value, dict):
            schemas[name] = value
            if sub.get("type") == "array":
                lists.add(name)
    return schemas, frozenset(lists)


def _info(tool: ToolSpec) -> classify.ToolInfo:
    name = tool.name[len(TOOL_PREFIX) :] if tool.name.startswith(TOOL_PREFIX) else tool.name
    field_names = tuple(tool.schema.get("properties", {}).get("fields", {}).get("properties", {}))
    return classify.ToolInfo(tool.name, name, tool.description, field_names)


def answer(text: str, tools: Sequence[ToolSpec], *, forced: str | None = None) -> tuple[str, dict[str, Any]]:
    """(tool name, tool input) for a Converse request offering class tools. `forced`: a tool named by toolChoice."""
    source = Source(text)
    raw_json = _parse_json(source.text) if source.text.lstrip()[:1] in ("{", "[") else None
    infos = [_info(tool) for tool in tools]
    if forced is not None:
        chosen = next(info for info in infos if info.tool_name == forced)
    else:
        json_resume = '"basics"' in source.text[:5000] or "basics.name:" in source.text[:5000]
        chosen, _ = classify.choose(infos, source.text, json_resume=json_resume)
    tool = next(tool for tool in tools if tool.name == chosen.tool_name)
    insights = extract_insights(text)
    language = insights.get("language") or detect_language(source.text)
    schemas, lists = _value_schemas(tool)
    ctx = Context(source, language, insights, schemas, lists, json_values(source, raw_json))
    filled = _fill(chosen.class_name, ctx)
    fields = _envelopes(ctx, filled)
    tool_input = {
        "title": insights["title"][:300],
        "summary": insights["summary"][:2000],
        "language": language,
        "domain_hint": insights["domainHint"],
        "key_phrases": [phrase[:120] for phrase in insights["keyPhrases"][:10]],
        "fields": fields,
    }
    tool_input = _within_budget(ctx, filled, tool_input)
    fallback = {**tool_input, "fields": {}}
    valid, _ = conform(tool_input, tool.schema, fallback=fallback)
    return tool.name, valid


def _fill(class_name: str, ctx: Context) -> Filled:
    filled: Filled = {}
    handled: frozenset[str] = frozenset()
    if class_name in FILLERS:
        filler, handled = FILLERS[class_name]
        filled = {name: hit for name, hit in filler(ctx).items() if ctx.wants(name)}
    for name in ctx.value_schemas:
        if name not in filled and name not in handled:
            hit = generic.fill_field(ctx, name)
            if hit is not None:
                filled[name] = hit
    return filled


def _valid(schema: dict[str, Any], value: Any) -> bool:
    return validator_for(schema).is_valid(value)


def _envelopes(ctx: Context, filled: Filled) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, found in filled.items():
        schema = ctx.value_schemas[name]
        if name in ctx.lists:
            hits = found if isinstance(found, list) else [found]
            items = [ctx.source.envelope(hit) for hit in hits if _valid(schema, hit.value)]
            seen: set[str] = set()
            unique = []
            for item in items:
                key = json.dumps(item["value"], sort_keys=True, ensure_ascii=False).lower()
                if key not in seen:
                    seen.add(key)
                    unique.append(item)
            if unique:
                fields[name] = unique
        elif isinstance(found, Hit) and _valid(schema, found.value):
            fields[name] = ctx.source.envelope(found)
    return fields


def _within_budget(ctx: Context, filled: Filled, tool_input: dict[str, Any]) -> dict[str, Any]:
    """The tool input cut to :data:`OUTPUT_BUDGET`: shorter quotes first, then fewer list items."""
    if len(json.dumps(tool_input, ensure_ascii=False)) <= OUTPUT_BUDGET:
        return tool_input
    fields = tool_input["fields"]
    for envelope in _all_envelopes(fields):
        quote = envelope["evidence"]["quote"]
        if len(quote) > 80:
            envelope["evidence"]["quote"] = _short_quote(ctx, quote, envelope["value"])
    while len(json.dumps(tool_input, ensure_ascii=False)) > OUTPUT_BUDGET:
        longest = max(
            (name for name, value in fields.items() if isinstance(value, list)),
            default=None,
            key=lambda name: len(fields[name]),
        )
        if longest is None or len(fields[longest]) <= 1:
            break
        fields[longest].pop()
    return tool_input


def _all_envelopes(fields: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for value in fields.values():
        out.extend(value if isinstance(value, list) else [value])
    return out


def _short_quote(ctx: Context, quote: str, value: Any) -> str:
    """A window of about 80 characters of ``quote`` around where the value is written."""
    needle = str(value.get("description") or value.get("name") or "") if isinstance(value, dict) else str(value)
    index = quote.lower().find(needle.lower()[:20]) if needle else -1
    start = max(0, index - 20) if index >= 0 else 0
    return quote[start : start + 80].strip() or quote[:80]
