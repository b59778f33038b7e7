"""The console's web pages (Flask + Jinja2 server-side templates; one small vanilla script, no CDN).

Every POST (the actions) needs ``--allow-actions`` and the page's form token; every request must name this
console's own host (``127.0.0.1:<port>`` or ``localhost:<port>``), which keeps other web sites out through DNS
rebinding. Logs hold the method, the path and the status, never a query string, a form or document text.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, redirect, render_template, request, send_from_directory, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from docproc_local.console import highlight
from docproc_local.console.backend import ActionsDisabled, Backend
from docproc_local.console.corrections import (
    DOMAINS,
    CorrectionError,
    field_kind,
    form_value,
    model_values,
    parse_review,
)
from docproc_local.console.experiments import safe_name
from docproc_local.console.listing import STATUSES, BadFilter, Filters
from docproc_local.cost_cli import usd

log = logging.getLogger("docproc_console")
HERE = Path(__file__).parent
PAGE_SIZES = (25, 50, 100)


def create_app(backend: Backend, *, allowed_hosts: set[str] | None = None) -> Flask:
    app = Flask("docproc_console", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    app.config["MAX_CONTENT_LENGTH"] = 1_000_000
    token = secrets.token_urlsafe(24)
    app.jinja_env.filters["usd"] = usd
    app.jinja_env.globals.update(
        STATUSES=STATUSES,
        DOMAINS=DOMAINS,
        CLASSES=backend.config.names,
        allow_actions=backend.allow_actions,
        reviewer=backend.reviewer,
        token=token,
        stack=backend.client.outputs,
        endpoint=backend.client.endpoint_url or "AWS " + backend.client.region,
    )

    @app.before_request
    def _guard() -> None:
        if allowed_hosts is not None and request.host not in allowed_hosts:
            abort(400, "unexpected Host header (the console answers only on its own address)")
        if request.method == "POST":
            if not backend.allow_actions:
                abort(403, "the console is read-only: start it with --allow-actions to change anything")
            if not secrets.compare_digest(request.form.get("token", ""), token):
                abort(403, "the form token is missing or stale: reload the page")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[str, int]:
        return render_template("error.html", code=exc.code, message=exc.description), exc.code or 500

    @app.errorhandler(Exception)
    def _error(exc: Exception) -> tuple[str, int]:  # a page failed: say so, log its type (never its message)
        log.error("%s %s failed: %s", request.method, request.path, type(exc).__name__)
        return render_template("error.html", code=500, message=f"the page failed ({type(exc).__name__})"), 500

    @app.context_processor
    def _counts() -> dict[str, Any]:
        return {"counts": backend.counts()}

    # --- the list ---------------------------------------------------------------------------------------------------
    @app.get("/")
    def index() -> str:
        try:
            filters = Filters.from_args(request.args)
        except BadFilter as exc:
            abort(400, str(exc))
        limit = request.args.get("limit", type=int) or 50
        if limit not in PAGE_SIZES:
            limit = 50
        cursor = request.args.get("cursor") or None
        try:
            page = backend.lister.page(filters, cursor=cursor, limit=limit)
        except BadFilter as exc:
            abort(400, str(exc))
        return render_template(
            "list.html", page=page, filters=filters, limit=limit, first=cursor is None, sizes=PAGE_SIZES
        )

    # --- one document -----------------------------------------------------------------------------------------------
    @app.get("/documents/<document_id>")
    def document(document_id: str) -> str:
        if not document_id.isalnum():
            abort(404)
        data = backend.document(document_id)
        if data is None:
            abort(404, f"no record {document_id}")
        record = data["record"]
        fields = record.get("fields") or {}
        spans = highlight.spans(data["text"], fields) if data["text"] else []
        form_class = request.args.get("class") or record.get("documentClass") or ""
        if form_class not in backend.config:
            form_class = record.get("documentClass") or backend.config.names[0]
        return render_template(
            "document.html",
            record=record,
            data=data,
            fields=fields,
            highlighted=highlight.render(data["text"], spans) if data["text"] else None,
            found={s.field for s in spans},
            field_rows=_field_rows(fields),
            anchor=highlight.anchor,
            form=_form(backend, record, form_class, data["reviews"]),
            problems={},
            saved=request.args.get("saved"),
            notice=request.args.get("notice"),
        )

    @app.post("/documents/<document_id>/reprocess")
    def reprocess(document_id: str) -> Response:
        try:
            key = backend.reprocess(document_id)
        except LookupError:
            abort(404)
        except (RuntimeError, ValueError) as exc:
            return redirect(url_for("document", document_id=document_id, notice=str(exc)), 303)
        log.info("reprocess requested for document %s", document_id)
        notice = f"reprocess requested for {key}: a new generation starts"
        return redirect(url_for("document", document_id=document_id, notice=notice), 303)

    @app.post("/documents/<document_id>/reviews")
    def review(document_id: str) -> Any:
        record = backend.record(document_id)
        if record is None:
            abort(404)
        try:
            parsed = parse_review(request.form, record, backend.config)
        except CorrectionError as exc:
            data = backend.document(document_id) or {}
            fields = record.get("fields") or {}
            spans = highlight.spans(data["text"], fields) if data.get("text") else []
            form_class = request.form.get("documentClass") or record.get("documentClass") or ""
            return render_template(
                "document.html",
                record=record,
                data=data,
                fields=fields,
                highlighted=highlight.render(data["text"], spans) if data.get("text") else None,
                found={s.field for s in spans},
                field_rows=_field_rows(fields),
                anchor=highlight.anchor,
                form=_form(backend, record, form_class, data.get("reviews", []), submitted=request.form),
                problems=exc.problems,
                saved=None,
                notice="the review was not saved: correct the marked inputs",
            ), 422
        backend.review(record, parsed)
        log.info("review saved for document %s (%d field(s) changed)", document_id, len(parsed.changed))
        return redirect(url_for("document", document_id=document_id, saved="1") + "#review", 303)

    # --- failures, events, cost, experiments ------------------------------------------------------------------------
    @app.get("/failures")
    def failures() -> str:
        cursor = request.args.get("cursor") or None
        try:
            page = backend.lister.page(Filters(status="FAILED"), cursor=cursor, limit=50)
        except BadFilter as exc:
            abort(400, str(exc))
        reasons: dict[str, int] = {}
        for row in page.rows:
            reasons[row["reasonCode"] or "?"] = reasons.get(row["reasonCode"] or "?", 0) + 1
        return render_template(
            "failures.html", page=page, reasons=reasons, dlq=backend.dlq_depth(), notice=request.args.get("notice")
        )

    @app.post("/dlq/redrive")
    def redrive() -> Response:
        moved = backend.redrive()
        log.info("redrive moved %d message(s)", moved)
        return redirect(url_for("failures", notice=f"moved {moved} message(s) back to the intake queue"), 303)

    @app.get("/events")
    def events() -> str:
        return render_template("events.html", events=backend.feed.events() if backend.feed else [], feed=backend.feed)

    @app.get("/api/events")
    def api_events() -> Response:
        after = request.args.get("after", type=int) or 0
        return jsonify(events=backend.feed.events(after=after) if backend.feed else [])

    @app.get("/cost")
    def cost() -> str:
        return render_template("cost.html", summary=backend.cost())

    @app.get("/experiments")
    def experiments_page() -> str:
        return render_template("experiments.html", experiments=backend.experiments())

    @app.get("/experiments/<name>/<chart>")
    def experiment_chart(name: str, chart: str) -> Response:
        if not (safe_name(name) and safe_name(chart) and chart.endswith(".png")):
            abort(404)
        return send_from_directory(backend.experiments_root.resolve() / name, chart, mimetype="image/png")

    @app.errorhandler(ActionsDisabled)
    def _read_only(exc: ActionsDisabled) -> tuple[str, int]:
        return render_template("error.html", code=403, message=str(exc)), 403

    return app


def _field_rows(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """One table row per field value (list fields one per item, labelled like the evidence: ``parties[1]``)."""
    rows = []
    for name, entry in fields.items():
        entries = entry if isinstance(entry, list) else [entry]
        for number, item in enumerate(entries):
            if isinstance(item, dict):
                label = f"{name}[{number}]" if isinstance(entry, list) else name
                rows.append({"name": name, "label": label, "entry": item, "first": number == 0})
    return rows


def _form(
    backend: Backend,
    record: dict[str, Any],
    class_name: str,
    reviews: list[dict[str, Any]],
    submitted: Any = None,
) -> dict[str, Any]:
    """The review form's inputs: the newest review's labels, else the model's values (same class only)."""
    document_class = backend.config.get(class_name)
    latest = reviews[0] if reviews else None
    if latest and latest.get("documentClass") == class_name:
        values = dict(latest.get("labels") or {})
    elif class_name == record.get("documentClass"):
        values = model_values(record.get("fields"))
    else:
        values = {}
    inputs = []
    for name, schema in document_class.schema.get("properties", {}).items():
        text = submitted.get(f"field.{name}", "") if submitted is not None else form_value(schema, values.get(name))
        inputs.append(
            {
                "name": name,
                "kind": field_kind(schema),
                "choices": schema.get("enum", []),
                "text": text,
                "description": schema.get("description", ""),
                "type": schema.get("type", ""),
            }
        )
    domain = (latest or {}).get("domain") if latest else record.get("domain")
    return {
        "documentClass": class_name,
        "domain": (submitted.get("domain") if submitted is not None else domain) or "",
        "inputs": inputs,
        "open": bool(record.get("needsReview")) or submitted is not None,
    }
