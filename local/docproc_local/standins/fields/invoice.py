"""Invoices and receipts: numbers, dates by role, seller and buyer, totals by label, currency, line items.

Roles come from labels, in the languages of :mod:`~docproc_local.standins.fields.classify`: the issue date is the
date labelled "Invoice date" / "Rechnungsdatum" / "Date de facture" ..., the due date the one labelled "Due date" /
"Fällig" / "Échéance" / "payable by" ...; the total is the amount labelled "Total due" / "Gesamtbetrag" / "Total TTC"
(the last such line wins), never a "Subtotal" or "Total tax" line. Line items are the rows of the table whose header
names a description column, read by the header's quantity / price / amount columns.
"""

from __future__ import annotations

import re

from docproc_local.standins.fields import values
from docproc_local.standins.fields.context import Context, Filled
from docproc_local.standins.fields.source import Hit, Line, Source, clean
from docproc_local.standins.fields.values import Amount

INVOICE_FIELDS = frozenset(
    [
        "invoice_number",
        "issue_date",
        "due_date",
        "issuer",
        "recipient",
        "subtotal",
        "tax",
        "total",
        "currency",
        "purchase_order",
        "line_items",
    ]
)
RECEIPT_FIELDS = frozenset(
    ["merchant", "receipt_number", "transaction_date", "total", "tax", "currency", "payment_method", "items"]
)

_NUMBER_LABEL = re.compile(
    r"\b(?:invoice|inv|rechnung|facture|factura|fattura|factuur|fatura|bill)[ \t]*(?:no\b|nr\b|number|num\b|"
    r"#|n[°ºo.]|nummer|número|numero|nummer)\.?[ \t]*[:#]?[ \t]*|\brechnungs-?(?:nummer|nr)\.?[ \t]*:?[ \t]*|"
    r"\bn(?:°|º|o\.?|úmero|umero)[ \t]*(?:de[ \t]+)?(?:la[ \t]+)?(?:facture|factura|fattura|fatura)[ \t]*:?[ \t]*|"
    r"\bfactuurnummer[ \t]*:?[ \t]*|\u0441\u0447[\u0435\u0451]\u0442[ \t]*\u2116[ \t]*|"
    r"請求書番号[ \t]*[:\uff1a]?[ \t]*|"
    r"发票号码[ \t]*[:\uff1a]?[ \t]*|\binvoice[ \t]*:[ \t]*",
    re.I,
)
_RECEIPT_NUMBER_LABEL = re.compile(
    r"\b(?:receipt|beleg|bon|quittung|reçu|ticket|recibo|ricevuta|scontrino|kassabon|transaction|trans|order)"
    r"[ \t]*(?:no\b|nr\b|number|#|n[°ºo.]|nummer|número|numero)\.?[ \t]*[:#]?[ \t]*|"
    r"\b(?:beleg|bon)-?nr\.?[ \t]*:?[ \t]*",
    re.I,
)
_ID_RE = re.compile(r"[A-Z0-9][A-Za-z0-9/_.\-]{0,38}[A-Za-z0-9]|\d")
_PO_LABEL = re.compile(
    r"\b(?:purchase[ \t]+order|p\.?o\.?)[ \t]*(?:no\b|nr\b|number|#|n[°º])?\.?[ \t]*[:#]?[ \t]*|"
    r"\b(?:bestell(?:nummer|-?nr\.?)|ihre bestellung|bon de commande|n° de commande|orden de compra|"
    r"ordine(?: d'acquisto)?(?: n\.?)?|inkooporder|pedido(?: de compra)?(?: n[º°.])?)[ \t]*:?[ \t]*",
    re.I,
)
ISSUE_DATE = re.compile(
    r"invoice date|date of (?:issue|invoice)|issue date|issued(?: on)?|billing date|\bdated?\b|rechnungsdatum|"
    r"ausstellungsdatum|\bdatum\b|date de (?:la )?facture|date d'émission|\bdate\b|fecha(?: de (?:emisión|factura|"
    r"expedición))?|data(?: (?:fattura|emissione|documento|de emissão))?|factuurdatum|\bdatum\b|data da fatura",
    re.I,
)
DUE_DATE = re.compile(
    r"\bdue\b|payable (?:by|on|until)|pay(?:ment)? by|f[äa]llig|zahlbar bis|zahlungsziel|échéance|à payer avant|"
    r"payable avant|vencimiento|fecha límite|pagar antes|scadenza|da pagare entro|vervaldatum|te betalen vóór|"
    r"uiterlijk|vencimento|pagar até",
    re.I,
)
_NOT_ISSUE = re.compile(
    r"\bdue\b|f[äa]llig|échéance|vencim|scadenza|verval|payable|service|period|delivery|lieferdatum|leistung|"
    r"livraison|entrega|consegna|levering|order date|bestelldatum|birth|geburt",
    re.I,
)
TOTAL = re.compile(
    r"\b(?:total (?:amount )?due|amount due|balance due|grand total|total amount|invoice total|total to pay|"
    r"total \(?incl|total payable|gesamtbetrag|rechnungsbetrag|endbetrag|bruttobetrag|zu zahlen|gesamtsumme|"
    r"total ttc|montant ttc|net à payer|total à payer|montant total|importe total|total a pagar|total factura|"
    r"totale(?: (?:fattura|documento|da pagare))?|te betalen|totaalbedrag|totaal|valor total|total a pagar|"
    r"amount paid|total paid|summe|gesamt|total|итого|合計|总计|合计)\b",
    re.I,
)
_NOT_TOTAL = re.compile(
    r"sub-?\s?total|zwischensumme|sous-total|total (?:tax|vat|ht|hors|excl|net|before)|\bnet total|"
    r"netto|\bht\b|imponibile|base imponible|subtotaal|excl\.|total (?:hours|items|qty|quantity)|"
    r"summe netto|nettobetrag|total tva|total iva|total mwst",
    re.I,
)
SUBTOTAL = re.compile(
    r"\b(?:sub-?\s?total|net amount|total (?:excl\.?|excluding|before tax|net|ht|hors taxes?)|net total|"
    r"zwischensumme|nettobetrag|summe netto|netto(?:betrag|summe)?|sous-total|montant ht|total ht|"
    r"base imponible|imponibile|totale imponibile|subtotaal|totaal excl\.?(?: btw)?|valor sem iva)\b",
    re.I,
)
TAX = re.compile(
    r"\b(?:total tax|sales tax|tax|vat|gst|hst|pst|mwst|ust|umsatzsteuer|mehrwertsteuer|tva|iva|btw|igv|"
    r"impuesto|imposta|impostos?|ндс)\b",
    re.I,
)
_NOT_TAX = re.compile(
    r"tax (?:id|no|number|reg)|vat (?:id|no|number|reg)|ust-?id|steuer-?nr|steuernummer|n° tva|tva intra|"
    r"\bnif\b|\bcif\b|partita iva|p\.? ?iva|btw-?(?:nr|nummer)|\bincl(?:uded|\.|usive)?\b|inkl|\bexcl|"
    r"tax exempt|grand total|total due|amount due|reverse charge",
    re.I,
)
_ISSUER_LABEL = values.label_pattern(
    r"from|seller|sold by|vendor|supplier|issued by|bill from|rechnungssteller|verkäufer|lieferant|"
    r"émetteur|fournisseur|vendeur|proveedor|emisor|vendedor|fornitore|cedente|leverancier|verkoper|fornecedor"
)
_RECIPIENT_LABEL = values.label_pattern(
    r"bill(?:ed)? to|invoice to|sold to|customer(?: name)?|client|buyer|to|rechnungsempfänger|rechnungsadresse|"
    r"kunde|empfänger|an|factur(?:é|e) à|destinataire|acheteur|facturar a|cliente|comprador|intestat(?:o|ario) a|"
    r"spett\.le|destinatario|factuur aan|klant|afnemer|faturar a|destinatário"
)
_NOT_NAME = re.compile(
    r"^(?:invoice|rechnung|facture|factura|fattura|factuur|fatura|receipt|tax invoice|bill|page|date|tel|phone|"
    r"e-?mail|www\.|https?:|vat|iban|\d)|@|^[\W\d]+$",
    re.I,
)
_ORG_RE = re.compile(
    r"\b(?:inc|ltd|llc|gmbh|ag|kg|sa|sas|sarl|s\.?a\.?|s\.?l\.?|s\.?r\.?l\.?|s\.?p\.?a\.?|b\.?v\.?|n\.?v\.?|plc|llp|"
    r"corp(?:oration)?|company|co|limited|ug|oy|ab|as|bv|lda|e\.?k\.?)\b\.?",
    re.I,
)
_HEADER_DESC = re.compile(
    r"\b(?:description|item|items|product|service|services|article|beschreibung|bezeichnung|artikel|leistung|"
    r"position|désignation|description|libellé|descripción|concepto|artículo|descrizione|articolo|omschrijving|"
    r"artikel|descrição|produto|serviço)\b",
    re.I,
)
_COLUMNS = {
    "unit_price": re.compile(
        r"\b(?:unit(?: price| cost)?|price|rate|einzelpreis|e-?preis|preis|prix(?: unitaire)?|"
        r"p\.?u\.?|precio(?: unitario)?|prezzo(?: unitario)?|prijs|stuksprijs|"
        r"preço(?: unitário)?)\b",
        re.I,
    ),
    "quantity": re.compile(
        r"\b(?:qty|quantity|menge|anzahl|qté|quantité|cantidad|cant\.?|quantità|qtà|aantal|"
        r"quantidade|qtd|units|hours|hrs|stunden|std\.?)\b",
        re.I,
    ),
    "amount": re.compile(
        r"\b(?:amount|line total|total|betrag|gesamt(?:preis)?|summe|montant|total ht|importe|"
        r"importo|totale|bedrag|totaal|valor|subtotal)\b",
        re.I,
    ),
}
_STOP_ROW = re.compile(
    rf"{SUBTOTAL.pattern}|{TOTAL.pattern}|{TAX.pattern}|\bpayment\b|\bzahlung|\bpaiement|\bpago\b|\bbank\b|\biban\b",
    re.I,
)
_PAYMENT_RE = re.compile(
    r"\b(?P<m>visa|mastercard|master card|american express|amex|maestro|discover|girocard|ec-karte|ec karte|"
    r"carte bancaire|\bcb\b|apple pay|google pay|paypal|contactless|debit card|credit card|kreditkarte|"
    r"cash|bar(?:geld)?|espèces|efectivo|contanti|contant|dinheiro|bank transfer|überweisung|virement|"
    r"transferencia|bonifico|overschrijving|transferência)\b",
    re.I,
)


def _identifier(source: Source, labels: re.Pattern[str]) -> Hit | None:
    for match in labels.finditer(source.text):
        line = source.line_at(match.start())
        rest = source.text[match.end() : line.end]
        if not rest.strip():
            nxt = next(source.next_lines(line, 1), None)
            rest, base = (nxt.text, nxt.start) if nxt else ("", match.end())
        else:
            base = match.end()
        found = _ID_RE.search(rest)
        if not found or not any(ch.isdigit() for ch in found.group(0)):
            continue
        value = found.group(0).rstrip(".-/")
        if re.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", value):  # a date, not a number
            continue
        return Hit(value, 0.9 if base == match.end() else 0.8, match.start(), base + found.end())
    return None


def _party(source: Source, labels: re.Pattern[str], confidence: float = 0.85) -> Hit | None:
    for match in labels.finditer(source.text):
        value, start, end = values.after_label(source, match, limit=100)
        value = re.sub(r"^(?:attn|attention|c/o|z\.? ?hd\.?)\s*[:.]?\s*", "", value, flags=re.I)
        value = value.split(",")[0].strip() if _ORG_RE.search(value.split(",")[0]) or len(value) > 60 else value
        if not value or _NOT_NAME.search(value) or len(value) < 2:
            continue
        same = source.line_at(match.start()).number == source.line_at(start).number
        return Hit(value, confidence if same else confidence - 0.05, match.start(), end)
    return None


def letterhead(source: Source, skip: re.Pattern[str] = _NOT_NAME) -> Hit | None:
    """The sender's name at the top: the first short line that reads like a name (a company suffix helps)."""
    candidates: list[Line] = []
    for line in source.lines[:15]:
        text = clean(line.text)
        if not text or len(text) > 70 or skip.search(text) or sum(ch.isalpha() for ch in text) < 3:
            continue
        if re.search(r"\d{3,}|:", text) and not _ORG_RE.search(text):
            continue  # an address or a labelled line
        candidates.append(line)
        if len(candidates) >= 3:
            break
    for line in candidates:
        for part in re.split(r"\s[·|•]\s|,\s|\s[-\u2013]\s|\t|\s{3,}", line.text):
            if _ORG_RE.search(part) and clean(part):
                return values.line_of(source, line, clean(part), 0.75)
    if candidates:
        return values.line_of(source, candidates[0], clean(candidates[0].text), 0.55)
    return None


def _header_columns(source: Source, line: Line) -> list[tuple[int, str]] | None:
    """(column start within the line, role) of a table header row, or None when the line is no header."""
    cells = source.cells(line)
    if len(cells) < 2 or not _HEADER_DESC.search(cells[0][2] + " " + (cells[1][2] if len(cells) > 1 else "")):
        return None
    columns: list[tuple[int, str]] = []
    for start, _, text in cells:
        described = any(r == "description" for _, r in columns)
        role = "description" if _HEADER_DESC.search(text) and not described else None
        for name, pattern in _COLUMNS.items():
            if role is None and pattern.search(text):
                role = name
        columns.append((start - line.start, role or "other"))
    return columns if sum(1 for _, r in columns if r in _COLUMNS) >= 1 else None


def _money(source: Source, language: str, start: int, end: int) -> list[Amount]:
    return values.amounts(source, start, end, language)


def line_items(source: Source, language: str, *, with_quantities: bool = True, limit: int = 50) -> list[Hit]:
    """The rows of the first item table: a header naming a description column, then rows until a total line."""
    items: list[Hit] = []
    for line in source.lines:
        columns = _header_columns(source, line) if line.stripped else None
        if columns is None:
            continue
        rows = 0
        for row in source.lines[line.number + 1 : line.number + 80]:
            text = row.stripped
            if not text or re.fullmatch(r"[-=_|+: ]+", text):
                if rows and not text:
                    break
                continue
            cells = source.cells(row)
            first = cells[0][2] if cells else text
            if re.match(rf"^\W*(?:{_STOP_ROW.pattern})", first, re.I) and (len(cells) <= 2 or ":" in first):
                break
            item = _row(source, language, row, columns, with_quantities)
            if item is not None:
                items.append(item)
                rows += 1
                if len(items) >= limit:
                    return items
        if items:
            return items
    return items


def _row(source: Source, language: str, row: Line, columns: list[tuple[int, str]], quantities: bool) -> Hit | None:
    cells = source.cells(row)
    if len(cells) < 2:
        return None
    if len(cells) == len(columns):  # as many cells as header columns: by position in the row
        roles_of = [role for _, role in columns]
    else:  # aligned columns with gaps: by where each cell sits under the header
        roles_of = [_nearest_role(columns, start - row.start) for start, _, _ in cells]
    index = next((i for i, role in enumerate(roles_of) if role == "description"), 0)
    if not re.search(r"[^\W\d_]{2,}", cells[index][2]):
        index = next((i for i, c in enumerate(cells) if re.search(r"[^\W\d_]{2,}", c[2])), -1)
        if index < 0:
            return None
    description = cells[index][2]
    numbers: list[tuple[str, Amount]] = []
    for position, (start, end, _) in enumerate(cells):
        found = _money(source, language, start, end) if position > index else []
        if len(found) == 1:
            numbers.append((roles_of[position], found[0]))
    if not numbers:
        return None
    value: dict[str, object] = {"description": clean(description, 150)}
    roles = {role for _, role in columns}
    for role, amount in numbers:
        if role in ("quantity", "unit_price", "amount") and role not in value:
            value[role] = amount.number
    if "amount" not in value and ("amount" in roles or len(numbers) in (1, 3)):
        value["amount"] = numbers[-1][1].number
    if quantities and len(numbers) == 3 and "quantity" not in value and "unit_price" not in value:
        value["quantity"], value["unit_price"] = numbers[0][1].number, numbers[1][1].number
    if not quantities:
        value = {"description": value["description"], **({"amount": value["amount"]} if "amount" in value else {})}
    confidence = 0.8 if len(value) > 2 else 0.7
    return Hit(value, confidence, row.start, row.end)


def _nearest_role(columns: list[tuple[int, str]], column: int) -> str:
    """The header role whose column is closest to ``column`` (right-aligned numbers sit under or past a header)."""
    best, distance = "other", 10**6
    for index, (start, role) in enumerate(columns):
        end = columns[index + 1][0] if index + 1 < len(columns) else 10**6
        gap = 0 if start - 2 <= column < end else min(abs(column - start), abs(column - end))
        if gap < distance:
            best, distance = role, gap
    return best


def _plain_rows(source: Source, language: str, before: int, *, limit: int = 50) -> list[Hit]:
    """Item lines without a table header: ``text ... amount`` lines just above the first total line."""
    rows: list[Hit] = []
    end_line = source.line_at(before)
    for line in reversed(source.lines[max(0, end_line.number - 40) : end_line.number]):
        text = line.stripped
        if not text:
            if rows:
                break
            continue
        found = _money(source, language, line.start, line.end)
        label = re.match(r"^(?P<d>.*?[^\W\d_].*?)[\s.:]{2,}[^\W\d_]*\s?[-(]?[$€£]?\s?[\d]", text)
        if not found or not found[-1].decimals or label is None or _STOP_ROW.search(text) or ":" in text[:3]:
            if rows:
                break
            continue
        description = clean(re.sub(r"\s+\d+\s*[x\u00d7@]\s*$", "", label.group("d")), 150)
        value: dict[str, object] = {"description": description, "amount": found[-1].number}
        rows.append(Hit(value, 0.6, line.start, line.end))
        if len(rows) >= limit:
            break
    return list(reversed(rows))


def _totals(ctx: Context, out: Filled, *, total_field: str = "total") -> Amount | None:
    source, language = ctx.source, ctx.language
    total = values.labelled_amount(source, language, TOTAL, exclude=_NOT_TOTAL)
    if total is not None:
        out[total_field] = total[0]
    if ctx.wants("subtotal"):
        sub = values.labelled_amount(source, language, SUBTOTAL)
        if sub is not None and (total is None or abs(sub[1].value) <= abs(total[1].value)):
            out["subtotal"] = sub[0]
    tax = values.labelled_amount(source, language, TAX, exclude=_NOT_TAX)
    if tax is not None and (total is None or abs(tax[1].value) < abs(total[1].value)):
        out["tax"] = tax[0]
    currency = values.main_currency(source, language, total[1] if total else None)
    if total is not None and total[1].currency is None:
        line = source.line_at(total[1].start)
        code = re.search(r"\b(?:EUR|USD|GBP|CHF|JPY|CAD|AUD|SEK|NOK|DKK|PLN|CZK|INR|CNY)\b|[€$£¥]", line.text)
        if code is not None:
            symbol = values.amounts(source, line.start + code.start(), line.start + code.end() + 4, language)
            iso = (
                symbol[0].currency
                if symbol and symbol[0].currency
                else {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY"}.get(code.group(0), code.group(0))
            )
            currency = (iso, 0.85, line.start + code.start())
    if currency is not None:
        iso_code, confidence, position = currency
        out["currency"] = Hit(iso_code, confidence, position, position + 1)
    return total[1] if total else None


def fill_invoice(ctx: Context) -> Filled:
    source, language = ctx.source, ctx.language
    out: Filled = {}
    number = _identifier(source, _NUMBER_LABEL)
    if number is not None:
        out["invoice_number"] = number
    issue = values.labelled_date(source, language, ISSUE_DATE, exclude=_NOT_ISSUE)
    if issue is not None:
        out["issue_date"] = issue
    due = values.labelled_date(source, language, DUE_DATE)
    if due is not None and (issue is None or due.value != issue.value or due.start != issue.start):
        out["due_date"] = due
    issuer = _party(source, _ISSUER_LABEL) or letterhead(source)
    if issuer is not None:
        out["issuer"] = issuer
    recipient = _party(source, _RECIPIENT_LABEL)
    if recipient is not None and (issuer is None or recipient.value != issuer.value):
        out["recipient"] = recipient
    total = _totals(ctx, out)
    po = _identifier(source, _PO_LABEL)
    if po is not None and (number is None or po.value != number.value):
        out["purchase_order"] = po
    items = line_items(source, language)
    if not items and total is not None:
        sub, whole = out.get("subtotal"), out["total"]
        items = _plain_rows(source, language, (sub if isinstance(sub, Hit) else whole).start)  # type: ignore[union-attr]
    if items:
        out["line_items"] = items
    return out


def fill_receipt(ctx: Context) -> Filled:
    source, language = ctx.source, ctx.language
    out: Filled = {}
    merchant = _party(source, _ISSUER_LABEL, 0.8) or letterhead(
        source, re.compile(_NOT_NAME.pattern + r"|^(?:receipt|quittung|kassenbon|reçu|recibo|ticket)\b", re.I)
    )
    if merchant is not None:
        out["merchant"] = merchant
    number = _identifier(source, _RECEIPT_NUMBER_LABEL)
    if number is not None:
        out["receipt_number"] = number
    when = values.labelled_date(source, language, re.compile(r"\bdate|datum|fecha|data|date de|\bdatum", re.I))
    if when is None:
        first = next((d for d in values.dates(source, language) if d.full), None)
        when = Hit(first.iso, 0.6, first.start, first.end) if first else None
    if when is not None:
        out["transaction_date"] = when
    _totals(ctx, out)
    payment = _PAYMENT_RE.search(source.text)
    if payment is not None:
        word = payment.group("m")
        brands = {"cash", "bar", "bargeld", "espèces", "efectivo", "contanti", "contant", "dinheiro"}
        value = "Cash" if word.lower() in brands else f"Card ({word})" if "card" not in word.lower() else word
        if re.search(r"transfer|überweisung|virement|transferencia|bonifico|overschrijving|transferência", word, re.I):
            value = "Bank transfer"
        if word.lower() in ("paypal", "apple pay", "google pay"):
            value = word
        out["payment_method"] = Hit(value, 0.75, payment.start(), payment.end())
    items = line_items(source, language, with_quantities=False)
    if not items and isinstance(out.get("total"), Hit):
        items = _plain_rows(source, language, out["total"].start)  # type: ignore[union-attr]
    if items:
        out["items"] = items
    return out
