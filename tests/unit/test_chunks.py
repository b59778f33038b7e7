"""Long documents: page-aware chunk plans, the merge of chunk results, and the classifier's sample."""

from __future__ import annotations

import pytest

from docproc import chunks, classes
from docproc.models import Evidence, Extraction, ExtractionResult, FieldValue, TokenUsage


def pages(*texts: str) -> str:
    return "\f".join(texts)


def test_a_short_text_is_one_chunk() -> None:
    plan = chunks.plan("short text", max_chars=100)

    assert [(c.start, c.end, c.first_page) for c in plan.chunks] == [(0, 10, 1)]
    assert plan.dropped_chars == 0


def test_chunks_cover_the_text_in_order_and_cut_at_page_breaks() -> None:
    text = pages("a" * 60, "b" * 60, "c" * 60, "d" * 30)  # 4 pages, 213 characters

    plan = chunks.plan(text, max_chars=130)

    assert [text[c.start : c.end] for c in plan.chunks] == [
        pages("a" * 60, "b" * 60),
        "\f" + pages("c" * 60, "d" * 30),
    ]
    assert [c.first_page for c in plan.chunks] == [1, 2]  # the second chunk starts with page 3's form feed
    assert "".join(text[c.start : c.end] for c in plan.chunks) == text
    assert all(c.end - c.start <= 130 for c in plan.chunks)


def test_a_page_longer_than_the_limit_is_cut_at_paragraphs_then_words() -> None:
    text = ("word " * 30 + "\n\n") * 4  # one page, 608 characters, paragraphs of 152

    plan = chunks.plan(text, max_chars=200)

    pieces = [text[c.start : c.end] for c in plan.chunks]
    assert "".join(pieces) == text
    assert all(len(p) <= 200 for p in pieces)
    assert all(p.endswith("\n\n") for p in pieces[:-1])
    assert all(c.first_page == 1 for c in plan.chunks)


def test_the_chunk_count_is_bounded_and_the_rest_is_reported() -> None:
    plan = chunks.plan("x" * 1_000, max_chars=100, max_chunks=3)

    assert len(plan.chunks) == 3
    assert plan.dropped_chars == 700


def test_page_numbers_of_offsets() -> None:
    text = pages("one", "two", "three")

    assert [chunks.page_at(text, text.index(w)) for w in ("one", "two", "three")] == [1, 2, 3]


def test_the_classifier_sample_spans_the_whole_text() -> None:
    text = "".join(chr(ord("a") + k) * 1_000 for k in range(10))  # aaaa...bbbb...jjjj

    sent = chunks.sample(text, 2_000)

    assert len(sent) <= 2_000
    assert sent.startswith("a" * 1_000)
    assert {"e", "h", "j"} <= set(sent)
    assert chunks.sample("short", 2_000) == "short"


# --- combining chunk results ---------------------------------------------------------------------------------------


def value(v: object, confidence: float, page: int) -> FieldValue:
    return FieldValue(value=v, confidence=confidence, evidence=Evidence(page=page, quote=str(v), found=True))


def result(
    document_class: str, fields: dict, *, title: str = "t", language: str = "en", tokens: int = 100
) -> ExtractionResult:
    return ExtractionResult(
        document_class=document_class,
        config_version="v1",
        extraction=Extraction(title=title, summary="s", language=language, domain_hint="financial",
                              key_phrases=[title]),
        fields=fields,
        model_id="m",
        usage=TokenUsage(input_tokens=tokens, output_tokens=10, total_tokens=tokens + 10),
        duration_ms=5,
        input_chars=1_000,
    )  # fmt: skip


def test_combine_picks_values_by_confidence_dedupes_lists_and_keeps_pages() -> None:
    plan = chunks.plan("x" * 3_000, max_chars=1_000)
    results = [
        chunks.ChunkResult(plan.chunks[0], result("invoice", {
            "total": value(100.0, 0.6, 1),
            "line_items": [value({"description": "A"}, 0.7, 1), value({"description": "B"}, 0.5, 2)],
        }, title="first")),
        chunks.ChunkResult(plan.chunks[1], result("invoice", {
            "total": value(120.0, 0.9, 5),
            "line_items": [value({"description": "B"}, 0.8, 6), value({"description": "C"}, 0.7, 6)],
        }, title="second", language="de")),
        chunks.ChunkResult(plan.chunks[2], result("letter", {"subject": value("hi", 0.99, 9)}, language="de")),
    ]  # fmt: skip

    combined = chunks.combine(results, plan, classes.load(), duration_ms=42)

    assert combined.document_class == "invoice"  # the first chunk's class
    assert set(combined.fields or {}) == {"total", "line_items"}  # fields of the chosen class only
    total = combined.fields["total"]  # type: ignore[index]
    assert isinstance(total, FieldValue)
    assert (total.value, total.confidence, total.evidence.page) == (120.0, 0.9, 5)  # type: ignore[union-attr]
    items = combined.fields["line_items"]  # type: ignore[index]
    assert isinstance(items, list)
    assert [(i.value["description"], i.confidence, i.evidence.page) for i in items] == [  # type: ignore[union-attr]
        ("A", 0.7, 1),
        ("B", 0.8, 6),  # the duplicate with the higher confidence
        ("C", 0.7, 6),
    ]
    assert combined.extraction.title == "first"
    assert combined.extraction.language == "de"  # two chunks of three
    assert combined.usage.input_tokens == 300
    assert (combined.chunks, combined.input_chars, combined.input_truncated) == (3, 3_000, False)


def test_the_first_chunk_decides_the_class_unless_it_found_only_other() -> None:
    plan = chunks.plan("x" * 3_000, max_chars=1_000)

    def run(*names: str) -> str:
        results = [chunks.ChunkResult(c, result(n, {})) for c, n in zip(plan.chunks, names, strict=True)]
        return chunks.combine(results, plan, classes.load(), duration_ms=1).document_class

    assert run("report", "form", "form") == "report"  # a report's appendix looks like a form
    assert run("other", "contract", "contract") == "contract"
    assert run("other", "other", "other") == "other"


def test_combine_flags_a_plan_that_dropped_text() -> None:
    plan = chunks.plan("x" * 1_000, max_chars=100, max_chunks=1)

    combined = chunks.combine(
        [chunks.ChunkResult(plan.chunks[0], result("other", {}))], plan, classes.load(), duration_ms=1
    )

    assert combined.input_truncated is True


def test_combine_needs_results() -> None:
    with pytest.raises(ValueError, match="no chunk results"):
        chunks.combine([], chunks.plan("x", 10), classes.load(), duration_ms=0)
