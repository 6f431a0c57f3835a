# Ledgerlens. Two commands matter: `make run` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8050

.PHONY: venv run test lint bench bench-spending clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

## make run: migrate the embedded SQLite database, load the demo when empty, serve on 127.0.0.1:8050
run: venv
	$(PY) -m flask --app app migrate
	$(PY) -m flask --app app demo --if-empty
	HOST=$(HOST) PORT=$(PORT) $(PY) app.py

## make test: every test (browser tests need Debian's chromium and chromium-driver)
test: venv
	$(PY) -m pytest --headless $(PYTEST_ARGS)

lint: venv
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
