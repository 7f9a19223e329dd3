# kpitools — every target bootstraps .venv itself, so a fresh machine needs only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
QUARTER ?= 2024Q4
# Extra flags for `kpitools report`, e.g. REPORT_OPTS="--lang en --force --pdf".
REPORT_OPTS ?=
SAMPLES := $(wildcard data/sample/*/client.yml)

.PHONY: setup test report check-data lint format samples bench clean-venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (kpitools)" >/dev/null
	touch $(STAMP)

setup: $(STAMP) ## create .venv and install kpitools with its test tools

test: $(STAMP) ## run the whole test suite (library, notebooks, reports, README snippets)
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --nbval-lax notebooks/

report: $(STAMP) ## generate the sample clients' quarterly reports into reports/
	$(BIN)/kpitools report $(dir $(SAMPLES)) --quarter $(QUARTER) --out reports $(REPORT_OPTS)

check-data: $(STAMP) ## validate the sample clients' files
	$(BIN)/kpitools check-data $(dir $(SAMPLES))

lint: $(STAMP)
	$(BIN)/ruff check kpitools tests scripts benchmarks

format: $(STAMP)
	$(BIN)/ruff format kpitools tests scripts benchmarks

samples: $(STAMP) ## regenerate data/sample from the seeded generator
	$(BIN)/python scripts/make_sample_data.py --out data/sample

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_metrics.py
	$(BIN)/python benchmarks/bench_models.py

clean-venv:
	rm -rf $(VENV)
