# trustpulse: `make demo` (set up + run on the demo data) and `make test` (set up + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?= ./data

.PHONY: install demo run test ui lint bench clean distributed

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

bench: install  ## speed/memory/quality benchmarks -> bench/results/*.json (reads ../shared/data; 1M mentions: 25+ min; sentiment_bench also runs long_comments_bench)
	HF_HUB_OFFLINE=1 $(BIN)/python bench/sentiment_bench.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/topics_bench.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/needs_answer_bench.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/scale_bench.py --sizes 100000 --incremental --out bench/results/scale.json
	HF_HUB_OFFLINE=1 $(BIN)/python bench/scale_bench.py --sizes 20000 --realistic --incremental --out bench/results/scale_realistic.json
	HF_HUB_OFFLINE=1 $(BIN)/python bench/scale_bench.py --sizes 1000000 --deadline-minutes 90 --out bench/results/scale_1m.json

# dagster-celery & co. in a venv of their own that borrows the project venv's packages (a .pth file)
distributed: DIST_VENV ?= $(VENV)/distributed
distributed: REDIS_SERVER ?= redis-server
distributed: install  ## loopback multi-process deployment (Postgres, Redis, S3 (moto), daemon, 2 Celery workers) vs single-process
	@missing=""; \
	command -v $(REDIS_SERVER) >/dev/null 2>&1 || missing="$$missing redis-server"; \
	ls $${TRUSTPULSE_PG_BIN:-/usr/lib/postgresql/*/bin}/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make distributed: installing$$missing (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq$$missing; \
	  else echo "make distributed: missing$$missing: install it as root (apt-get install$$missing)" >&2; exit 1; fi; \
	fi
	test -x $(DIST_VENV)/bin/python || $(BIN)/python -m venv $(DIST_VENV)
	$(DIST_VENV)/bin/python -c "import pathlib, sys, sysconfig; pathlib.Path(sysconfig.get_paths()['purelib'], 'trustpulse-project.pth').write_text(sys.argv[1] + '\n')" "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
	$(DIST_VENV)/bin/python -m pip install -q -e ".[distributed]"
	HF_HUB_OFFLINE=1 $(DIST_VENV)/bin/python deploy/distributed/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
