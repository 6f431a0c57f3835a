# Ledgerlens. Two commands matter: `make run` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# One stamp per requirements file: the app's own (make run) and the development tools on top (make test).
STAMP  := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8050

.PHONY: venv dev-venv run serve test lint bench bench-spending bench-memory bench-pageload bench-clicks bench-ahead bench-load clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-[0-9]* && touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-dev-* && touch $(DEV_STAMP)

## make venv: what the app needs to run (requirements.txt); make dev-venv adds the test and lint tools
venv: $(STAMP)

dev-venv: $(DEV_STAMP)

## make run: migrate the embedded SQLite database, load the demo when empty, serve on 127.0.0.1:8050
run: venv
	$(PY) -m flask --app app migrate
	$(PY) -m flask --app app demo --if-empty
	HOST=$(HOST) PORT=$(PORT) $(PY) app.py

## make serve: migrate, then the app under gunicorn with several workers (gunicorn.conf.py). Settings
## come from the environment: DATABASE_URL, REDIS_URL, SECRET_KEY, WORKERS, HOST/PORT (or BIND).
## Binds 127.0.0.1:8050 unless told otherwise.
serve: venv
	$(PY) -m flask --app app migrate
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn -c gunicorn.conf.py 'app:create_app()'

## make test: every test (browser tests need Debian's chromium and chromium-driver)
test: dev-venv
	$(PY) -m pytest --headless $(PYTEST_ARGS)

## make bench: every benchmark, building its own data (1,000,000 transactions) on SQLite, then on
## PostgreSQL when one answers at BENCH_PG_URL. Results end in `bench ...` lines; see docs/benchmarks.md.
BENCH_PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
BENCH_ROWS   ?= 1000000

bench: bench-spending bench-memory bench-pageload bench-clicks bench-ahead

bench-spending: venv
	for set in uniform varied; do env -u DATABASE_URL $(PY) benchmarks/bench_spending.py --rows $(BENCH_ROWS) --dataset $$set || exit 1; done
	@if pg_isready -q -d "$(BENCH_PG_URL)" 2>/dev/null; then \
	  for set in uniform varied; do DATABASE_URL="$(BENCH_PG_URL)" $(PY) benchmarks/bench_spending.py --rows $(BENCH_ROWS) --dataset $$set || exit 1; done; \
	else echo "PostgreSQL not reachable at $(BENCH_PG_URL): skipped"; fi

## make bench-memory: the serving process's peak memory (gunicorn, one worker, gunicorn.conf.py) while it
## answers every bench_spending case, both data sets (benchmarks/bench_memory.py; `bench memory ...` lines)
bench-memory: venv
	for set in uniform varied; do env -u DATABASE_URL $(PY) benchmarks/bench_memory.py --rows $(BENCH_ROWS) --dataset $$set || exit 1; done
	@if pg_isready -q -d "$(BENCH_PG_URL)" 2>/dev/null; then \
	  for set in uniform varied; do DATABASE_URL="$(BENCH_PG_URL)" $(PY) benchmarks/bench_memory.py --rows $(BENCH_ROWS) --dataset $$set || exit 1; done; \
	else echo "PostgreSQL not reachable at $(BENCH_PG_URL): skipped"; fi

## make bench-clicks: headless Chromium at BENCH_ROWS, both data sets: a filter change (every preset, a
## drill-down, a text search) to every chart and the grid settled (benchmarks/bench_clicks.py)
bench-clicks: dev-venv
	for set in uniform varied; do env -u DATABASE_URL $(PY) benchmarks/bench_clicks.py --rows $(BENCH_ROWS) --dataset $$set || exit 1; done

bench-pageload: dev-venv
	env -u DATABASE_URL $(PY) benchmarks/bench_pageload.py --rows $(BENCH_ROWS)

## make bench-ahead: recurring detection, the forecast update, the Sankey and "why a budget is off" at
## BENCH_ROWS, on SQLite, then on PostgreSQL when one answers at BENCH_PG_URL.
bench-ahead: dev-venv
	env -u DATABASE_URL $(PY) benchmarks/bench_ahead.py --rows $(BENCH_ROWS)
	@if pg_isready -q -d "$(BENCH_PG_URL)" 2>/dev/null; then \
	  DATABASE_URL="$(BENCH_PG_URL)" $(PY) benchmarks/bench_ahead.py --rows $(BENCH_ROWS); \
	else echo "PostgreSQL not reachable at $(BENCH_PG_URL): skipped"; fi

## make bench-load: 50 people for 2 minutes against gunicorn (4 workers), on SQLite, then on PostgreSQL
## when one answers at BENCH_PG_URL (with Redis as the cache when one answers on 127.0.0.1:6379).
## The client (locust) lives in .venv-bench. Ends in `bench load.<db> ...` lines; see docs/benchmarks.md.
BENCH_VENV  ?= .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-$(shell cksum requirements-bench.txt | cut -d' ' -f1)
LOAD_USERS   ?= 50
LOAD_SECONDS ?= 120
LOAD_WORKERS ?= 4

$(BENCH_STAMP): requirements-bench.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r requirements-bench.txt
	@rm -f $(BENCH_VENV)/.installed-* && touch $(BENCH_STAMP)

bench-load: venv $(BENCH_STAMP)
	env -u DATABASE_URL $(PY) benchmarks/bench_load.py --rows $(BENCH_ROWS) --users $(LOAD_USERS) \
	  --seconds $(LOAD_SECONDS) --workers $(LOAD_WORKERS)
	@if pg_isready -q -d "$(BENCH_PG_URL)" 2>/dev/null; then \
	  DATABASE_URL="$(BENCH_PG_URL)" $(PY) benchmarks/bench_load.py --rows $(BENCH_ROWS) --users $(LOAD_USERS) \
	    --seconds $(LOAD_SECONDS) --workers $(LOAD_WORKERS); \
	else echo "PostgreSQL not reachable at $(BENCH_PG_URL): skipped"; fi

## make lint: ruff, then the architecture contracts (import-linter, [tool.importlinter] in pyproject.toml)
lint: dev-venv
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .hypothesis
