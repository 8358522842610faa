# Monitorbizz: `make run` serves the demo workshop, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run init install system web browser test test-fast bench constraints clean-db

run: install system web
	$(PY) scripts/run.py --host $(HOST) --port $(PORT)

# Create the database with the demo workshop without serving it.
init: install system web
	$(PY) scripts/run.py --init-only

install: $(VENV)/.monitorbizz-installed

$(VENV)/.monitorbizz-installed: pyproject.toml constraints.txt
	@echo "==> Installing Python packages into $(VENV) (pinned in constraints.txt)"
	@set -e; started=$$(date +%s); set -x; \
	test -x $(PY) || $(PYTHON) -m venv $(VENV); \
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'; \
	touch $@; set +x; \
	echo "==> Python packages installed in $$(( $$(date +%s) - started )) s"

web:
	@started=$$(date +%s); scripts/setup_web.sh && \
	echo "==> Web client ready in $$(( $$(date +%s) - started )) s"

# Debian packages: Pango and fonts for PDFs; chromium for browser tests.
system:
	scripts/install_system_packages.sh pdf

browser:
	@started=$$(date +%s); scripts/install_system_packages.sh browser && \
	echo "==> Chromium ready in $$(( $$(date +%s) - started )) s"

# The whole suite, both cores (CI runs it); prints the time of each step.
test: install web browser
	$(PY) scripts/run_tests.py

# While developing: unit tests and the API tests but those marked slow
# (tests/conftest.py SLOW), in two processes each with its own live server.
test-fast: install web
	$(PY) scripts/run_tests.py --fast

# Schemathesis over the whole /api on a live trytond and a fresh business:
# no server error, every answer as the OpenAPI document declares it.
FUZZ_EXAMPLES ?= 50
FUZZ_SECONDS ?= 900
FUZZ_SEED ?=
.PHONY: fuzz
fuzz: install
	$(PY) scripts/fuzz.py --examples $(FUZZ_EXAMPLES) --seconds $(FUZZ_SECONDS) --seed "$(FUZZ_SEED)"

# Benchmarks (figures printed as JSON); never part of make test.
# Every benchmark runs and prints its figures; a missed target fails the whole.
BENCHMARKS = bench_provision bench_inventory bench_manufacturing bench_finance bench_run bench_load
bench: install
	@status=0; for bench in $(BENCHMARKS); do \
	    echo "==> scripts/$$bench.py"; \
	    $(PY) scripts/$$bench.py || { status=1; echo "==> $$bench: target missed or failed"; }; \
	done; exit $$status

constraints: install
	(echo "# Exact versions of every Python dependency; 'make constraints' rewrites it."; \
	 $(PY) -m pip freeze --exclude-editable) > constraints.txt

clean-db:
	rm -f var/db/*.sqlite

# Production: gunicorn with WORKERS processes, trytond-cron and trytond-worker
# on PostgreSQL (TRYTOND_DATABASE_URI); README "Running in production".
.PHONY: serve backup restore
serve: install web
	$(PY) scripts/serve.py --host $(HOST) --port $(PORT)

# pg_dump (custom format) and the attachment store, in one file under var/backups
backup: install
	$(PY) scripts/backup.py backup

# Into a new database: make restore FILE=var/backups/<file> [DATABASE=name]
restore: install
	$(PY) scripts/backup.py restore "$(FILE)" $(if $(DATABASE),--database "$(DATABASE)")
