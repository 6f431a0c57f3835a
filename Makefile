# Ledgerlens. Two commands matter: `make run` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8050

.PHONY: venv run test lint bench bench-spending bench-pageload clean

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

## make bench: every benchmark, building its own data (1,000,000 transactions) on SQLite, then on
## PostgreSQL when one answers at BENCH_PG_URL. Results end in `bench ...` lines; see docs/benchmarks.md.
BENCH_PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
BENCH_ROWS   ?= 1000000

bench: bench-spending bench-pageload

bench-spending: venv
	env -u DATABASE_URL $(PY) benchmarks/bench_spending.py --rows $(BENCH_ROWS)
	@if pg_isready -q -d "$(BENCH_PG_URL)" 2>/dev/null; then \
	  DATABASE_URL="$(BENCH_PG_URL)" $(PY) benchmarks/bench_spending.py --rows $(BENCH_ROWS); \
	else echo "PostgreSQL not reachable at $(BENCH_PG_URL): skipped"; fi

bench-pageload: venv
	env -u DATABASE_URL $(PY) benchmarks/bench_pageload.py --rows $(BENCH_ROWS)

lint: venv
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
