# Two commands do all set-up: `make chat` and `make test`. Each creates .venv on its own.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test lint eval clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/python -m bot chat

lint: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks scripts
	$(BIN)/ruff format --check bot tests benchmarks scripts
	$(BIN)/mypy bot tests benchmarks scripts

test: lint
	$(BIN)/pytest -q

eval: $(STAMP)
	$(BIN)/python -m bot eval ../shared/eval/article-dev.jsonl
	$(BIN)/python -m bot eval ../shared/eval/squad2-dev.jsonl

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
