# `make run` and `make test` each do every missing set-up step first.
FLASK := .venv/bin/flask --app tracker
PORT ?= 5000

.PHONY: setup install run dev test fuzz bench lint

setup:
	scripts/setup.sh

# A city's own installation: the migrations, the plan, the boundary, the places and the
# shelters, and never the sample works (later `make run`s keep it so).
install: setup
	$(FLASK) db upgrade
	$(FLASK) load-data --no-samples

# The production server (gunicorn); `make dev` is the reloading development server.
run: setup
	$(FLASK) db upgrade
	$(FLASK) load-data
	PORT=$(PORT) scripts/serve.sh .venv/bin/gunicorn --config gunicorn.conf.py

dev: setup
	$(FLASK) db upgrade
	$(FLASK) load-data
	PORT=$(PORT) scripts/serve.sh $(FLASK) run --debug --host 127.0.0.1 --port $(PORT)

# The suite starts at TEST_NOW (e.g. 2028-02-29T23:30:00Z) if set, else at an instant it
# chooses and prints; `make test TEST_NOW=...` replays a run.
test:
	scripts/setup.sh --test
	TEST_NOW="$(TEST_NOW)" .venv/bin/pytest

# The API contracts checked at length: schemathesis with many more cases than `make test`
# (FUZZ_EXAMPLES per operation and mode), every tests/*_contract.py, at least FUZZ_MIN_CASES.
fuzz:
	scripts/setup.sh --test
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-1500} FUZZ_MIN_CASES=$${FUZZ_MIN_CASES:-20000} \
	  .venv/bin/pytest $(wildcard tests/*_contract.py) -k schemathesis

bench:
	scripts/setup.sh --bench
	.venv/bin/python -m bench.run

lint: setup
	.venv/bin/ruff check tracker tests scripts bench gunicorn.conf.py
	.venv/bin/ruff format --check tracker tests scripts bench gunicorn.conf.py
	.venv/bin/lint-imports
	.venv/bin/mypy
