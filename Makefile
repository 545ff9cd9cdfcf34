# Two commands do everything on a fresh machine:
#   make serve   build the site and serve it on http://127.0.0.1:8000
#   make test    run every test (snippets, code blocks, build, browser)
# Both create .venv and install requirements.txt on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve build test test-cuda bench check clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

serve: $(STAMP)
	$(PY) -m mkdocs serve --strict --dev-addr $(HOST):$(PORT)

build: $(STAMP)
	$(PY) -m mkdocs build --strict

test: $(STAMP)
	$(PY) -m pytest

test-cuda: $(STAMP)
	$(PY) -m pytest --device cuda

# Not part of `make test`: runs every snippet, section and page block once more and prints
# the block runner's timings (blocks, wall time, the blocks' own time, torch start-up, overhead).
bench: $(STAMP)
	$(PY) -m kb.bench_blocks
	$(PY) -m kb.bench_build

check: $(STAMP)
	$(PY) -m kb check

clean:
	rm -rf site .pytest_cache .cache
