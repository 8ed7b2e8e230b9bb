# Two commands do all the set-up: `make book` and `make test`. Both create .venv from requirements.txt
# when it is missing or when requirements.txt changed (a stamp keyed on the file's hash).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REQ_HASH := $(shell sha256sum requirements.txt pyproject.toml | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(REQ_HASH)
# The installer of .venv's requirements, and pip's wheel folders and indexes as its options (pip's configuration and
# PIP_* variables: a local torch wheel, as on these machines, or a company index); with unsafe-best-match (in the
# recipe below) uv looks through all of them for the best version, as pip does.
UV_VERSION := 0.13.10
pip_sources = $(BIN)/pip config list | sed -nE \
	"s/^[^.]*\.(find-links|index-url|extra-index-url)='(.*)'$$/\1 \2/p" | \
	while read -r option values; do for value in $$values; do printf -- '--%s %s ' "$$option" "$$value"; done; done
PROFILE ?=
PROFILE_ARG := $(if $(PROFILE),--profile $(PROFILE),)
# make book WORKERS=N: N notebooks at a time on a local Dask cluster; FORCE=1: re-execute pages that are up to date.
WORKERS ?=
FORCE ?=
BUILD_ARGS := $(PROFILE_ARG) $(if $(WORKERS),--workers $(WORKERS),) $(if $(FORCE),--force,)
# Python writes the bytecode of what it imports (an environment may say PYTHONDONTWRITEBYTECODE=1, as these machines
# do; then every process, each page's kernel included, would compile every module it imports from source again).
export PYTHONDONTWRITEBYTECODE :=

.PHONY: help venv book edition test lint pytest example smoke-book unit-tests-beside book-and-checks device-prepare browser-check page-check linkcheck notebook bench clean

help: ## list the targets and every notebook's parameters
	@echo "Targets (PROFILE=smoke|cpu|paper; default: paper with CUDA, else cpu; make book also takes WORKERS=N, FORCE=1):"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16 | sed 's/^/  make /'
	@echo
	@echo "Notebooks and their parameters (make notebook NB=<name> P=\"key=value ...\"):"
	@if [ -x $(BIN)/papermill ]; then \
		for nb in notebooks/*.ipynb; do echo; echo "== $$(basename $$nb .ipynb)"; \
			$(BIN)/papermill --help-notebook $$nb 2>/dev/null | sed -n '/^Parameters inferred/,$$p' | tail -n +2; done; \
	else echo "  (run 'make venv' first to list them)"; fi

$(STAMP): requirements.txt pyproject.toml
	@if [ -d $(VENV) ] && [ ! -f $(STAMP) ]; then echo "requirements changed: recreating $(VENV)"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	@# uv installs the pinned requirements in about 12 s where pip took 45 s here (the same versions: both resolve the
	@# same pins against the same index), reading pip's configured wheel folders and indexes (pip_sources, above). No
	@# bytecode ahead: compiling the 17 749 installed files took 60-75 s here, while what the targets import (see
	@# PYTHONDONTWRITEBYTECODE above) is compiled once, on first import.
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --index-strategy unsafe-best-match \
		$$($(pip_sources)) -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP) ## create or update .venv from requirements.txt

book: venv ## execute the notebooks whose inputs changed (papermill) and build the HTML book
	$(BIN)/python -m tsinsight.book build $(BUILD_ARGS)

notebook: venv ## re-execute one notebook: make notebook NB=train P="dataset=ford_a beta=0.001"
	@test -n "$(NB)" || { echo "usage: make notebook NB=<name> P=\"key=value ...\" (see make help)"; exit 2; }
	$(BIN)/python -m tsinsight.book run $(NB) $(P) $(PROFILE_ARG)

lint: venv ## ruff on the package, tests, benchmarks and notebooks; the publishing workflow against GitHub's schema
	$(BIN)/ruff check .
	$(BIN)/ruff format --check tsinsight tests benchmarks
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

pytest: venv ## the unit tests
	$(BIN)/python -m pytest -q -n 2

smoke-book: venv ## the whole book on the smoke profile, the GPU machine's way (tools/device_run.sh, unpack, the rest here)
	rm -rf .device-out/smoke
	PYTHON=$(BIN)/python bash tools/device_run.sh smoke .device-out/smoke
	$(BIN)/python tools/device.py unpack .device-out/smoke
	$(BIN)/python -m tsinsight.book build --profile smoke

device-prepare: venv ## the wheels and data a GPU machine needs for tools/device_run.sh, into .whl/ and .mirror/
	$(BIN)/python tools/device.py prepare

browser-check: venv ## load every page of the built book in headless Chromium
	$(BIN)/python tools/browser_check.py book/_build/html

page-check: venv ## what a reader sees on every built page: no code cell unfolded (but on code pages), no machine path, no top bar
	$(BIN)/python tools/page_check.py book/_build/html

linkcheck: venv ## every internal link and #anchor of the built book (no network)
	$(BIN)/python tools/link_check.py book/_build/html

edition: venv ## rebuild the book of PROFILE and keep it as its reference edition (refuses a partial or mixed build)
	@test -n "$(PROFILE)" || { echo "usage: make edition PROFILE=cpu|paper"; exit 2; }
	$(BIN)/python -m tsinsight.book build --profile $(PROFILE) --no-html $(if $(WORKERS),--workers $(WORKERS),)
	$(BIN)/python -m tsinsight.book edition --profile $(PROFILE)

example: venv ## the "Your model" page on a tiny model and data that tools/make_example_model.py writes (smoke)
	$(BIN)/python tools/make_example_model.py examples/your_model
	$(BIN)/python -m tsinsight.book run your_model classifier=examples/your_model/classifier.pt \
		data=examples/your_model/data.npz --profile $(or $(PROFILE),smoke) --no-html

test: lint ## what CI runs: lint; the unit tests beside the example, a smoke build of the book and its page, browser and link checks
	@# Two jobs. The book's pages, one after another, go first; the unit tests run at a lower priority, on what
	@# the pages leave. OpenMP's threads wait passively: a page's torch runs on both cores, and a thread that spins
	@# while it waits holds its core from the other job (the same results, see tsinsight/parallel.py).
	OMP_WAIT_POLICY=PASSIVE $(MAKE) --no-print-directory -j2 --output-sync=line unit-tests-beside book-and-checks

unit-tests-beside: venv
	nice -n 10 $(MAKE) --no-print-directory pytest

book-and-checks: venv
	$(MAKE) --no-print-directory example
	$(MAKE) --no-print-directory smoke-book
	$(MAKE) --no-print-directory page-check browser-check linkcheck

bench: venv ## benchmarks: a page kernel's cost around its cells, data loading, batched suppression, stacked explainer fits, the later methods' cost, the masks side by side, a stacked epoch against the machine's peak
	$(BIN)/python benchmarks/bench_kernel.py
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_suppression.py
	$(BIN)/python benchmarks/bench_stacking.py
	$(BIN)/python benchmarks/bench_stacking.py --runs 2
	$(BIN)/python benchmarks/bench_later_methods.py
	$(BIN)/python benchmarks/bench_masks.py
	$(BIN)/python benchmarks/bench_epoch.py

clean: ## remove the built book and generated pages (keeps .venv, data caches and artifacts)
	rm -rf book/_build book/generated
