# trustpulse: `make demo` (set up + run on the demo data) and `make test` (set up + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?= ./data

.PHONY: install demo run test ui lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=25.1"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install  ## generate the demo dumps into $(DATA)/landing and run the whole pipeline
	HF_HUB_OFFLINE=1 $(BIN)/trustpulse demo --data $(DATA)
	@test -f $(DATA)/reports/latest.html && echo "executive report: $$(realpath $(DATA)/reports/latest.html)"

run: install  ## run the pipeline on whatever is in $(DATA)/landing
	HF_HUB_OFFLINE=1 $(BIN)/trustpulse run --data $(DATA)

test: install
	scripts/install_browser.sh
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

ui: install  ## Dagster UI on the same data root and the same persistent DAGSTER_HOME
	HF_HUB_OFFLINE=1 $(BIN)/trustpulse ui --data $(DATA)

bench: install  ## speed/memory/quality benchmarks -> bench/results/*.json (reads ../shared/data; 1M mentions: 25+ min)
	HF_HUB_OFFLINE=1 $(BIN)/python bench/sentiment_bench.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/long_comments_bench.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/topics_bench.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/needs_answer_bench.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/scale_bench.py --sizes 100000 --out bench/results/scale.json
	HF_HUB_OFFLINE=1 $(BIN)/python bench/scale_bench.py --sizes 1000000 --deadline-minutes 90 --out bench/results/scale_1m.json

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
