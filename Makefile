# Two entry points for people: `make run` (the app) and `make test` (lint and the test suite).
# Both start from nothing but Python 3.11: they create .venv, install the pinned requirements and build the
# knowledge index when it is missing.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PORT ?= 8501

OIDC := tests/oidc
OIDC_STAMP := $(OIDC)/node_modules/.installed

.PHONY: install index run test lint fmt bench browser postgres speech oidc load clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

index: install
	$(PY) -m interviewer ingest

run: index
	$(PY) -m streamlit run app.py --server.port $(PORT)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Debian's chromium for the real-browser test (Playwright's own browser download cannot work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

# Debian's PostgreSQL for the store's tests, which start their own server in a temporary folder.
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql; }

# Debian's espeak-ng speaks the answers the speech tests and bench.speech transcribe.
speech:
	@command -v espeak-ng >/dev/null 2>&1 || { \
		SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends espeak-ng; }

# The test OpenID Connect provider (node-oidc-provider, pinned by tests/oidc/package-lock.json) for sign-in tests.
$(OIDC_STAMP): $(OIDC)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
		SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends nodejs npm; }
	cd $(OIDC) && npm ci --no-audit --no-fund --loglevel=error
	touch $(OIDC_STAMP)

oidc: $(OIDC_STAMP)

test: lint browser postgres speech oidc
	$(PY) -m pytest

fmt: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: install browser
	$(PY) -m bench.knowledge
	$(PY) -m bench.grading
	$(PY) -m bench.indomain
	$(PY) -m bench.app
	$(PY) -m bench.uploads

# Twenty sessions at once against one `streamlit run` (protocol clients, then browser pages), then forty signed-in
# people across two replicas on one PostgreSQL beside one replica (bench/load_team.py); docs/RELIABILITY.md.
load: install browser postgres oidc
	$(PY) -m bench.load --driver protocol
	$(PY) -m bench.load --driver browser
	$(PY) -m bench.load_team

clean:
	rm -rf $(VENV) .interviewer .pytest_cache .ruff_cache $(OIDC)/node_modules
