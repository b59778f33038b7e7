# The two commands a new user needs:  make demo  (the local pipeline on samples/)  and  make test  (the suite).
# Both bootstrap .venv on first use. Nothing here needs AWS credentials or Docker.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The SAM CLI pins its own boto3, so it lives in a venv of its own (used by `make build` and the artifact test).
SAM_VENV  := .venv-sam
SAM       := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
SAM_CLI_VERSION := 1.170.0
# checkov (Apache-2.0) scans template.yaml; a venv of its own too (`make checkov`, and the security test).
CHECKOV_VENV    := .venv-checkov
CHECKOV         := $(CHECKOV_VENV)/bin/checkov
CHECKOV_STAMP   := $(CHECKOV_VENV)/.installed
CHECKOV_VERSION := 3.3.30
# The local Textract's OCR engine: Debian's Tesseract 5 with these languages (osd: orientation and script detection),
# and DejaVu fonts for the tests that render text. Installed with apt-get only when something is missing.
OCR_STAMP := $(VENV)/.ocr-installed
OCR_LANGS := eng osd deu fra spa ita nld por rus jpn chi_sim ara heb
OCR_PACKAGES := tesseract-ocr $(addprefix tesseract-ocr-,$(subst _,-,$(OCR_LANGS))) fonts-dejavu-core
# The console's browser tests: Debian's Chromium, driven by Playwright (which downloads no browser of its own here).
CHROMIUM_STAMP := $(VENV)/.chromium-installed
CHROMIUM := /usr/bin/chromium

# The quality gate on golden/ (README, "Evaluation"): thresholds just under what the local stack measures, so a
# change that makes fields, classes or domains worse fails `make test`. Raise them when the numbers improve.
GATE := --min-domain-macro-f1 0.60 --min-class-accuracy 0.75 --min-field-f1 0.52 --max-ece 0.12 \
	--min-field-f1-for invoice.invoice_number=0.95 --min-field-f1-for invoice.total=0.9 \
	--min-field-f1-for resume.skills=0.9 --max-cost-per-doc 0.0055
# The classifier on its development set (classifier/dev: real documents, README "Classifier endpoint"), same rule.
DEV_MIN_MACRO_F1 := 0.88

.PHONY: chromium console console-screenshots
.PHONY: setup ocr demo test test-fast lint build validate checkov bench chaos up clean schemas evaluate gate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[local,dev]"
	touch $@

# Checks first (tesseract runs, every language is there, the font is there); installs only when a check fails:
# as root with apt-get, else through sudo when present, else says what to run. apt-get update only if needed.
$(OCR_STAMP):
	@mkdir -p $(@D)
	@ok=1; tesseract --version >/dev/null 2>&1 || ok=0; \
	if [ $$ok = 1 ]; then langs="$$(tesseract --list-langs 2>/dev/null)"; \
		for lang in $(OCR_LANGS); do echo "$$langs" | grep -qx "$$lang" || ok=0; done; fi; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || ok=0; \
	if [ $$ok = 0 ]; then \
		if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; \
		else echo "The local Textract needs Tesseract: as root run  apt-get install -y $(OCR_PACKAGES)" >&2; exit 1; fi; \
		echo "installing the OCR engine (Debian packages: $(OCR_PACKAGES))"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$sudo apt-get install -y -qq --no-install-recommends $(OCR_PACKAGES) >/dev/null 2>&1 \
			|| { $$sudo apt-get update -qq >/dev/null && \
				$$sudo apt-get install -y -qq --no-install-recommends $(OCR_PACKAGES) >/dev/null; } \
			|| { echo "apt-get could not install $(OCR_PACKAGES)" >&2; exit 1; }; \
	fi
	@touch $@

ocr: $(OCR_STAMP)

# Same pattern as the OCR engine: check, then apt-get as root or through sudo, else say what to run.
$(CHROMIUM_STAMP):
	@mkdir -p $(@D)
	@if ! $(CHROMIUM) --version >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; \
		else echo "The console's browser tests need Chromium: as root run  apt-get install -y chromium" >&2; exit 1; fi; \
		echo "installing Chromium for the console's browser tests (Debian package chromium)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
			|| { $$sudo apt-get update -qq >/dev/null && \
				$$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
			|| { echo "apt-get could not install chromium" >&2; exit 1; }; \
	fi
	@touch $@

chromium: $(CHROMIUM_STAMP)

console: $(STAMP)
	$(BIN)/docproc console --demo

# The browser tests, keeping their screenshots in .docproc/console-screenshots/ to look at.
console-screenshots: $(STAMP) $(OCR_STAMP) $(CHROMIUM_STAMP)
	DOCPROC_CONSOLE_SCREENSHOTS="$(CURDIR)/.docproc/console-screenshots" $(BIN)/pytest tests/e2e/test_console_browser.py -q
	@echo "screenshots: .docproc/console-screenshots/"

$(SAM_STAMP):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet "aws-sam-cli==$(SAM_CLI_VERSION)"
	touch $@

$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet "checkov==$(CHECKOV_VERSION)"
	touch $@

setup: $(STAMP)

demo: $(STAMP) $(OCR_STAMP)
	$(BIN)/docproc run samples/

test: $(STAMP) $(SAM_STAMP) $(CHECKOV_STAMP) $(OCR_STAMP) $(CHROMIUM_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" DOCPROC_SAM="$(CURDIR)/$(SAM)" DOCPROC_CHECKOV="$(CURDIR)/$(CHECKOV)" $(BIN)/pytest
	$(MAKE) --no-print-directory gate

evaluate: $(STAMP)
	$(BIN)/docproc evaluate golden/

gate: $(STAMP)
	$(BIN)/docproc evaluate golden/ --out .docproc/evaluate/gate $(GATE)
	$(BIN)/docproc classifier evaluate classifier/dev --min-macro-f1 $(DEV_MIN_MACRO_F1)

test-fast: $(STAMP) $(OCR_STAMP)
	$(BIN)/pytest -m "not e2e and not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/mypy

# python3.13 on arm64 without Docker: packaging/Makefile installs the layer's wheels for that runtime with this pip.
build: $(STAMP) $(SAM_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(SAM) build
	@find .aws-sam/build/DomainLayer -type f -printf '%s\n' | awk '{s += $$1} END {printf "DomainLayer as built: %.1f MiB unzipped\n", s / 1048576}'

validate: $(SAM_STAMP)
	$(SAM) validate --lint

# Every failure is either fixed or skipped in template.yaml with its reason (Metadata: checkov: skip:).
checkov: $(CHECKOV_STAMP)
	$(CHECKOV) --file template.yaml --framework cloudformation --skip-download --compact --quiet

schemas: $(STAMP)
	$(BIN)/python -m docproc.contract schemas

bench: $(STAMP)
	$(BIN)/docproc bench

chaos: $(STAMP)
	$(BIN)/docproc bench --chaos

up: $(STAMP) $(OCR_STAMP)
	$(BIN)/docproc local up

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache .docproc build dist *.egg-info
