# Every target installs what it needs into .venv first.
# The interpreter .venv is made with.  The distribution's /usr/bin/python3 (Debian's, Ubuntu's) is
# built with PGO and LTO and links libpython statically; a default source build (pyenv's:
# --enable-shared, no PGO) runs this project ~15 % slower (a 52-week backfill on 2 cores: 1.04 and
# 1.09 CPU-s per issue against 1.27 and 1.28, alternated in one hour).  So it is the system's
# python3 when that is 3.11 or newer and can make a venv, else python3 on PATH; `make PYTHON=...`
# chooses any other.  Changing it moves .venv onto the new interpreter at the next make.
# Looked at when .venv is made (`=`, not `:=`): after scripts/system-packages may have installed
# python3-venv.
SYSTEM_PYTHON = $(shell /usr/bin/python3 -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo /usr/bin/python3)
PYTHON ?= $(or $(SYSTEM_PYTHON),python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INTERPRETER := $(VENV)/.interpreter
ARGS ?=

.PHONY: brief test pytest lint bench bench-peer site golden clean sample system-brief system-test

$(STAMP): pyproject.toml constraints.txt $(INTERPRETER)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# .venv is made (again, empty) only when it is new or the interpreter changed (another one, or the
# same path upgraded to another version); its stamp then follows.
$(INTERPRETER): FORCE | system-brief
	@id=$$($(PYTHON) -c 'import sys; print(sys.executable, sys.version)') && \
	{ echo "$$id" | cmp -s - $@ || { $(PYTHON) -m venv --clear $(VENV) && echo "$$id" > $@; }; }

.PHONY: FORCE
FORCE:

# The Debian/Ubuntu packages (WeasyPrint's libraries and fonts; for the tests also poppler, Chromium
# and Node.js), installed when missing where root or password-less sudo can: scripts/system-packages.
# A dpkg query each when they are there.
system-brief:
	@scripts/system-packages brief

system-test:
	@scripts/system-packages test

# Lighthouse for the site test, pinned in package-lock.json (npm writes node_modules/.package-lock.json).
# Without npm, or with the registry out of reach, the test skips (a failure under CI=true).
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package-lock.json | system-test
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error || echo "npm ci failed: the Lighthouse test will skip" >&2; \
	else echo "npm not found: the Lighthouse test will skip" >&2; fi

## brief: build this week's brief (live data, else cache, else the bundled sample) into output/
brief: system-brief $(STAMP)
	$(BIN)/smallcap-brief build $(ARGS)

## test: lint, type-check, lint the workflows and run the test suite
# The checks and the suite run side by side (each one's output kept together): a cold mypy is
# ~20 CPU-s of one core that would otherwise come before the suite starts.  Either failing fails.
test: system-test $(STAMP) $(NODE_STAMP)
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
	$(BIN)/shellcheck .ci/run scripts/system-packages

## bench: a warm build stage by stage, the sample's pages and sizes, breadth, the warm live rebuild, the 52-week backfill, member prices
bench: $(STAMP)
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_members.py

## bench-peer: the build, the 52-week backfill and `make test`, each between two runs of quantstats' tearsheet, in its units
bench-peer: $(STAMP)
	$(BIN)/python scripts/bench_peer.py $(ARGS)

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
