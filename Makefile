# The README's two commands: `make book` and `make test-all`. Everything else is in
# `python -m companion` (see lib/companion/__main__.py); this file only installs and calls it.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: book test test-all bless benchmark clean

# torch's build: cpu (the default; the lock pins torch==X+cpu on Linux) or a CUDA build of the
# same version from the PyTorch index, e.g. `make TORCH=cu128`.
TORCH ?= cpu
TORCH_INDEX := https://download.pytorch.org/whl/$(TORCH)
# The PyTorch index is added only where it answers within 5 s, so that a machine that cannot
# reach it (a mirror, a local wheel cache) installs the locked build from where pip finds it.
TORCH_INDEX_OPTION = $(shell $(PYTHON) -c "import urllib.request as r; \
	r.urlopen('$(TORCH_INDEX)/torch/', timeout=5)" 2>/dev/null \
	&& echo --extra-index-url $(TORCH_INDEX))

$(INSTALLED): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	sed 's/+cpu ;/+$(TORCH) ;/' requirements.txt > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet $(TORCH_INDEX_OPTION) -r $(VENV)/requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

## Install, execute every chapter in quick mode (cached), build the site into _build/html and
## print the whole book to _build/html/downloads/training-dynamics-reproduced.pdf (with Chromium).
book: $(INSTALLED)
	$(PY) -m companion book

## The whole test suite (what CI runs); builds the book first so the tests see this commit's
## results.
test-all: book
	$(PY) -m pytest

## The two-minute loop: every test but the slow group (the browser, chapters re-executed,
## kernels, processes and Dask clusters started), which `make test-all` adds.
test: book
	$(PY) -m pytest -m "not slow"

## Rewrite figure baselines from the latest quick run: make bless CHAPTERS="adam_spikes" REASON="..."
## Both reach the command through the environment: quotes or backticks in REASON stay text.
bless: $(INSTALLED)
	$(PY) -m companion bless $$CHAPTERS --reason "$$REASON"

## Pipeline against pure compute per chapter and for the whole book, sequential and side by side,
## interleaved, into benchmarks/results.md (about 15 minutes).
benchmark: $(INSTALLED)
	$(PY) benchmarks/chapters.py

clean:
	rm -rf build _build book/chapters book/generated
