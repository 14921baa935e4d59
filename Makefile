# Two commands do all set-up: `make chat` and `make test`. Each creates .venv on its own;
# chat installs only what the bot needs, test adds the test and benchmark tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed
DATA := benchmarks/data

.PHONY: chat test lint eval eval-news clean

$(RUNTIME): pyproject.toml
	@echo "Installing qabot and what it needs into $(VENV) (the first time only; about a minute)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	@echo "Installing the test and benchmark tools into $(VENV) (the first time only)..."
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	touch $(STAMP)

chat: $(RUNTIME)
	$(BIN)/python -m bot chat

lint: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks scripts training
	$(BIN)/ruff format --check bot tests benchmarks scripts training
	$(BIN)/mypy bot tests benchmarks scripts training

test: lint
	$(BIN)/pytest -q

eval: $(RUNTIME)
	$(BIN)/python -m bot eval $(DATA)/squad2-dev.jsonl
	$(BIN)/python -m bot eval $(DATA)/article-dev.jsonl

# The BBC articles are not in this repository; NEWS points at a copy (see benchmarks/data/README.md).
NEWS ?= ../shared/eval/news-dev.jsonl
eval-news: $(RUNTIME)
	$(BIN)/python -m bot eval $(NEWS) --leave-one-out --train $(DATA)/squad2-train.jsonl --train $(DATA)/article-dev.jsonl

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
