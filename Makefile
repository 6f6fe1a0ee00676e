# `make run` and `make test` each do every missing set-up step first.
FLASK := .venv/bin/flask --app tracker
PORT ?= 5000

.PHONY: setup run test bench lint

setup:
	scripts/setup.sh

run: setup
	$(FLASK) db upgrade
	$(FLASK) load-data
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test:
	scripts/setup.sh --test
	.venv/bin/pytest

bench: setup
	.venv/bin/python -m bench.run

lint: setup
	.venv/bin/ruff check tracker tests scripts bench
	.venv/bin/ruff format --check tracker tests scripts bench
	.venv/bin/lint-imports
