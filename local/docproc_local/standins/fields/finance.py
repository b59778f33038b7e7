"""Financial statements: company, statement type, period end, currency and the headline totals.

Totals are read from labelled rows ("Total assets", "Net income", "Umsatzerlöse", "Résultat net" ...). When the
columns are periods (a header row of years or dates, as in a CSV or a printed statement), the value is taken from
the most recent period's column; "in millions" / "in thousands" (and "TEUR", "en millions", "in Mio.") multiply it
out. A long CSV (one row per line item and period) is read the same way: the latest period's row wins.
"""

from __future__ import annotations

import re

from docproc_local.standins.fields import values
from docproc_local.standins.fields.context import Context, Filled
from docproc_local.standins.fields.invoice import letterhead
from docproc_local.standins.fields.source import Hit, Line, Source, clean
from docproc_local.standins.fields.values import Amount

FIELDS = frozenset(
    [
        "company",
        "statement_type",
        "period_end",
        "currency",
        "revenue",
        "net_income",
        "total_assets",
        "total_liabilities",
        "total_equity",
    ]
)

_TYPES = (
    (
        "balance sheet",
        r"balance sheets?|statements? of financial (?:position|condition)|bilanz|bilan|balance general|"
        r"stato patrimoniale|balans|balanço(?: patrimonial)?|estado de situación",
    ),
    (
        "income statement",
        r"income statements?|statements? of (?:operations|income|earnings|comprehensive income)|"
        r"profit and loss|p&l|gewinn- und verlustrechnung|guv|compte de résultat|"
        r"cuenta de (?:resultados|pérdidas y ganancias)|estado de resultados|conto economico|"
        r"winst-en-verliesrekening|demonstração (?:de|do) resultados?",
    ),
    (
        "cash flow statement",
        r"(?:statements? of )?cash flows?(?: statement)?|kapitalflussrechnung|"
        r"tableau des flux de trésorerie|estado de flujos de efectivo|rendiconto finanziario|"
        r"kasstroomoverzicht",
    ),
    (
        "earnings release",
        r"earnings release|reports? (?:first|second|third|fourth)[- ]quarter|(?:first|second|"
        r"third|fourth)[- ]quarter(?: and (?:full[- ]year|fiscal))? (?:\d{4} )?results|"
        r"quarterly results|financial results for",
    ),
    ("annual report", r"annual report|geschäftsbericht|rapport annuel|informe anual|relazione annuale|jaarverslag"),
)
_TYPE_RES = [(name, re.compile(rf"\b(?:{pattern})\b", re.I)) for name, pattern in _TYPES]
_LABELS = {
    "revenue": r"total (?:net )?revenues?|net revenues?|revenues?|total net sales|net sales|sales|turnover|"
    r"umsatzerlöse|umsatz(?:erlöse)?|erlöse|chiffre d'affaires|produits des activités|ingresos(?: totales)?|"
    r"importe neto de la cifra de negocios|ventas(?: netas)?|ricavi(?: totali)?|fatturato|(?:netto-)?omzet|"
    r"receita(?: líquida| total)?",
    "net_income": r"net income(?: attributable to [\w ,.'\u2019]{3,40})?|net earnings|net profit|net \(loss\) income|"
    r"net income \(loss\)|net loss|profit for the (?:year|period)|jahresüberschuss|konzernergebnis|"
    r"periodenergebnis|nettogewinn|résultat net(?: part du groupe)?|bénéfice net|beneficio neto|"
    r"resultado (?:neto|del ejercicio)|utile netto|utile d'esercizio|nettowinst|netto resultaat|"
    r"lucro líquido|resultado líquido",
    "total_assets": r"total assets|summe (?:der )?aktiva|bilanzsumme|total (?:de l')?actif|total (?:del )?activo|"
    r"totale (?:dell')?attivo|totaal activa|total (?:do )?ativo",
    "total_liabilities": r"total liabilities|summe (?:der )?(?:verbindlichkeiten|schulden)|total (?:des )?dettes|"
    r"total (?:du )?passif|total (?:del )?pasivo|totale (?:delle )?passività|"
    r"totaal (?:verplichtingen|schulden)|total (?:do )?passivo",
    "total_equity": r"total (?:stockholders|shareholders)['\u2019]? equity|total equity|"
    r"(?:stockholders|shareholders)['\u2019] "
    r"equity|summe eigenkapital|eigenkapital|total (?:des )?capitaux propres|capitaux propres|"
    r"(?:total )?patrimonio neto|(?:totale )?patrimonio netto|(?:totaal )?eigen vermogen|"
    r"(?:total do )?patrimônio líquido",
}
_LABEL_RES = {
    name: re.compile(rf"^[ \t\"'*|]*(?:{pattern})\b(?!\s*(?:and|&|\+|und|et|y|e|en)\b)[^\n]*", re.I | re.M)
    for name, pattern in _LABELS.items()
}
_CELL_RES = {
    name: re.compile(rf"(?:^|[|,;\t])[ \t]*\"?(?:{pattern})\"?[ \t]*(?=[|,;\t])", re.I | re.M)
    for name, pattern in _LABELS.items()
}
_SCALE_RE = re.compile(
    r"\(?\b(?:in|en|amounts in|(?:[$€£]|usd|eur|gbp|chf)\s+in|expressed in)\s+(?:[$€£]\s*|usd\s+|eur\s+|euro\s+)?"
    r"(?P<w>thousands|millions|billions|miles|millones|migliaia|milioni|mio\.?|mrd\.?|tausend|tsd\.?|duizenden|"
    r"miljoenen|milhares|milhões)\b|\b(?P<code>teur|t€|tsd\. ?€|mio\. ?€|keur|k€|m€|meur|\$m|\$000|£m|£000|€m|€000)\b",
    re.I,
)
_SCALE = {
    "thousands": 1e3,
    "miles": 1e3,
    "migliaia": 1e3,
    "tausend": 1e3,
    "tsd": 1e3,
    "duizenden": 1e3,
    "milhares": 1e3,
    "millions": 1e6,
    "millones": 1e6,
    "milioni": 1e6,
    "mio": 1e6,
    "miljoenen": 1e6,
    "milhões": 1e6,
    "billions": 1e9,
    "mrd": 1e9,
    "teur": 1e3,
    "t€": 1e3,
    "keur": 1e3,
    "k€": 1e3,
    "$000": 1e3,
    "£000": 1e3,
    "€000": 1e3,
    "tsd. €": 1e3,
    "tsd.€": 1e3,
    "mio. €": 1e6,
    "mio.€": 1e6,
    "m€": 1e6,
    "meur": 1e6,
    "$m": 1e6,
    "£m": 1e6,
    "€m": 1e6,
}
_SCALE_CURRENCY = {
    "teur": "EUR",
    "t€": "EUR",
    "keur": "EUR",
    "k€": "EUR",
    "m€": "EUR",
    "meur": "EUR",
    "€m": "EUR",
    "€000": "EUR",
    "$m": "USD",
    "$000": "USD",
    "£m": "GBP",
    "£000": "GBP",
}
_YEAR_RE = re.compile(r"(?<![\d.,])(?:FY\s?)?((?:19|20)\d{2})(?![\d.,])")
_AS_OF_RE = re.compile(
    r"(?:as of|as at|at|for the (?:fiscal )?(?:year|quarter|period|three months|six months|nine months|twelve months|"
    r"\w+ weeks)s? ended|(?:year|quarter|period) ended|ended|zum|per|stichtag|au|al|a|al cierre de|per il periodo "
    r"chiuso al|op|em)\s*:?\s*$",
    re.I,
)


def _scale(source: Source) -> tuple[float, str | None]:
    match = _SCALE_RE.search(source.text[:20_000])
    if match is None:
        return 1.0, None
    word = (match.group("w") or match.group("code") or "").lower().rstrip(".")
    scale = _SCALE.get(word, _SCALE.get(word.replace(" ", ""), 1.0))
    return scale, _SCALE_CURRENCY.get(word.replace(" ", ""))


def _period_columns(source: Source, before: int) -> list[int] | None:
    """The years heading the numeric columns (the closest header row above ``before``), in column order."""
    line = source.line_at(before)
    for other in reversed(source.lines[max(0, line.number - 60) : line.number]):
        years = _YEAR_RE.findall(other.text)
        cells = source.cells(other)
        if len(years) >= 2 and len(years) >= len(cells) - 1:
            return [int(y) for y in years]
    return None


def _row_value(source: Source, language: str, line: Line, label_end: int) -> Amount | None:
    found = [a for a in values.amounts(source, label_end, line.end, language) if not _is_year(a)]
    if not found:
        return None
    periods = _period_columns(source, line.start)
    if periods and len(periods) == len(found):
        return found[max(range(len(periods)), key=lambda i: periods[i])]
    return found[0]


def _is_year(amount: Amount) -> bool:
    return not amount.decimals and amount.currency is None and 1900 <= amount.value <= 2100 and amount.value % 1 == 0


def _long_format(source: Source, language: str, label: re.Pattern[str]) -> tuple[Line, Amount] | None:
    """A row per line item and period: the labelled row of the latest period."""
    best: tuple[int, Line, Amount] | None = None
    for match in label.finditer(source.text):
        line = source.line_at(match.start())
        years = [int(y) for y in _YEAR_RE.findall(line.text)]
        found = [a for a in values.amounts(source, match.end(), line.end, language) if not _is_year(a)]
        if len(years) != 1 or not found:
            continue
        if best is None or years[0] > best[0]:
            best = (years[0], line, found[-1])
    return (best[1], best[2]) if best else None


def _totals(ctx: Context, out: Filled) -> str | None:
    source, language = ctx.source, ctx.language
    scale, scale_currency = _scale(source)
    currency = scale_currency
    for name, pattern in _LABEL_RES.items():
        if not ctx.wants(name):
            continue
        matches = list(pattern.finditer(source.text))
        cell_matches = list(_CELL_RES[name].finditer(source.text))
        long = _long_format(source, language, _CELL_RES[name]) if len(cell_matches) > len(matches) else None
        chosen: tuple[Line, Amount, int] | None = None
        if long is not None:
            chosen = (long[0], long[1], long[0].start)
        else:
            for match in matches:
                line = source.line_at(match.start())
                label_text = re.match(rf"^[ \t\"'*|]*(?:{_LABELS[name]})", line.text, re.I)
                label_end = line.start + (label_text.end() if label_text else 0)
                amount = _row_value(source, language, line, label_end)
                if amount is not None:
                    chosen = (line, amount, match.start())
                    break
        if chosen is None:
            continue
        line, amount, start = chosen
        value = amount.value * scale
        value = int(value) if value == int(value) else round(value, 2)
        out[name] = Hit(
            value, 0.85 if scale == 1.0 or _SCALE_RE.search(source.text[:20_000]) else 0.7, start, amount.end
        )
        currency = currency or amount.currency
    return currency


def _period_end(ctx: Context) -> Hit | None:
    best: Hit | None = None
    per_line: dict[int, list[values.DateHit]] = {}
    for hit in values.dates(ctx.source, ctx.language):
        if hit.full:
            per_line.setdefault(ctx.source.line_at(hit.start).number, []).append(hit)
    header = next((hits for _, hits in sorted(per_line.items()) if len(hits) >= 2), None)
    if header is None and re.search(
        r"(?:^|[|,;\t])[ \t]*\"?(?:period|date|period_end|fiscal_year|year)\"?[ \t]*(?:[|,;\t]|$)",
        ctx.source.text[:2000],
        re.I | re.M,
    ):
        header = [hits[0] for hits in per_line.values() if len(hits) == 1]  # one row per period: the latest
    if header is not None:  # a header row of period columns: the most recent one
        latest = max(header, key=lambda h: h.iso)
        best = Hit(latest.iso, 0.7, latest.start, latest.end)
    for hit in values.dates(ctx.source, ctx.language):
        if not hit.full:
            continue
        before = ctx.source.text[max(0, hit.start - 60) : hit.start].replace("\n", " ")
        label = values.label_before(ctx.source, hit.start)
        if _AS_OF_RE.search(before):
            if best is None or best.confidence < 0.85 or hit.iso > str(best.value):
                best = Hit(hit.iso, 0.85, hit.start, hit.end)
        elif best is None and re.search(r"^\W*$|period|year|quarter|date", label, re.I):
            best = Hit(hit.iso, 0.5, hit.start, hit.end)
    return best


def _company(ctx: Context) -> Hit | None:
    skip = re.compile(
        r"^(?:consolidated|condensed|unaudited|audited|balance|statement|income|cash|in |\(in|\(unaudited|"
        r"for the|as of|"
        r"page|table|bilanz|bilan|gewinn|compte|\d)|@|:",
        re.I,
    )
    first = ctx.source.lines[0] if ctx.source.lines else None
    cells = ctx.source.cells(first) if first is not None else []
    column = next(
        (
            i
            for i, (_, _, text) in enumerate(cells)
            if re.fullmatch(
                r"company|entity|company_name|issuer|name|unternehmen|société|empresa|società|bedrijf", text, re.I
            )
        ),
        None,
    )
    if first is not None and column is not None and len(cells) >= 2:
        row = next(ctx.source.next_lines(first, 1), None)
        row_cells = ctx.source.cells(row) if row is not None else []
        if row is not None and len(row_cells) == len(cells):
            return Hit(row_cells[column][2], 0.75, row_cells[column][0], row_cells[column][1])
    for line in ctx.source.lines[:10]:
        text = clean(line.text)
        if len(ctx.source.cells(line)) >= 3:
            continue
        owner = re.match(
            r"^(?P<n>[A-Z][\w&.,' \-]{2,60}?)\s+(?:[Rr]eports|[Aa]nnounces|[Pp]osts|REPORTS|ANNOUNCES)\b", text
        )
        if owner:
            return values.line_of(ctx.source, line, owner.group("n"), 0.75)
    hit = letterhead(ctx.source, skip)
    if hit is not None:
        for _, pattern in _TYPE_RES:
            if pattern.search(str(hit.value)):
                return None
    return hit


def fill(ctx: Context) -> Filled:
    source = ctx.source
    out: Filled = {}
    company = _company(ctx)
    if company is not None:
        out["company"] = company
    head = source.text[:6000]
    typed = [(match.start(), name, match) for name, pattern in _TYPE_RES for match in [pattern.search(head)] if match]
    if typed:
        _, name, match = min(typed, key=lambda item: item[0])
        out["statement_type"] = Hit(
            name, 0.85 if source.line_at(match.start()).number < 8 else 0.7, match.start(), match.end()
        )
    period = _period_end(ctx)
    if period is not None:
        out["period_end"] = period
    currency = _totals(ctx, out)
    if currency is None:
        found = values.main_currency(source, ctx.language)
        if found is not None:
            code, confidence, position = found
            out["currency"] = Hit(code, confidence, position, position + 1)
    else:
        scale_match = _SCALE_RE.search(source.text[:20_000])
        where = scale_match.start() if scale_match else 0
        symbol = re.search(r"[$€£¥]|\b(?:USD|EUR|GBP|JPY|CHF|CNY)\b", source.text[:20_000])
        position = symbol.start() if symbol else where
        out["currency"] = Hit(currency, 0.8, position, position + 1)
    return out
