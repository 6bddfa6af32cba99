# Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: brief test pytest lint bench site golden clean sample

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

## brief: build this week's brief (live data, else cache, else the bundled sample) into output/
brief: $(STAMP)
	$(BIN)/smallcap-brief build $(ARGS)

## test: lint, type-check, lint the workflows and run the test suite
# The checks and the suite run side by side (each one's output kept together): a cold mypy is
# ~20 CPU-s of one core that would otherwise come before the suite starts.  Either failing fails.
test: $(STAMP)
	$(MAKE) --no-print-directory -j2 --output-sync=target lint pytest

# Bytecode is cached for the run even where PYTHONDONTWRITEBYTECODE is set: otherwise every xdist
# worker and every subprocess compiles the project and rewrites the test modules' asserts again.
pytest: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -q -n auto --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check generator tests scripts
	$(BIN)/ruff format --check generator tests scripts
	$(BIN)/mypy
	$(BIN)/python scripts/lint_workflows.py

## bench: a warm build stage by stage, the sample's pages and sizes, breadth, the warm live rebuild, the 52-week backfill, member prices
bench: $(STAMP)
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_members.py

## site: build the static site from output/briefs
site: $(STAMP)
	$(BIN)/smallcap-brief site $(ARGS)

## golden: refresh the golden HTML and Markdown files after an intended change
golden: $(STAMP)
	$(BIN)/python scripts/refresh_golden.py

## sample: regenerate the bundled sample snapshot (deterministic)
sample: $(STAMP)
	$(BIN)/python scripts/make_sample.py

clean:
	rm -rf $(VENV) output/briefs output/site output/cache
