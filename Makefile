# Two commands do everything on a fresh machine:
#   make serve   build the site and serve it on http://127.0.0.1:8000
#   make test    run every test (snippets, code blocks, build, browser)
# Both create .venv and install requirements.txt, then this package (pyproject.toml: the `kb`
# command and the MkDocs plugin `kb`), on first use. Without make (Windows): python -m kb serve,
# python -m kb test (kb/tasks.py; the same addresses and pytest arguments as below).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve build test test-cuda bench check clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

serve: $(STAMP)
	$(PY) -m mkdocs serve --strict --dirty --dev-addr $(HOST):$(PORT)

build: $(STAMP)
	$(PY) -m mkdocs build --strict

# In parallel, one worker more than the machine has cores (at most 4; tests/conftest.py
# pytest_xdist_auto_num_workers): a worker waiting on a build or a browser leaves its core to
# another (benchmarks/suite.md).
test: $(STAMP)
	$(PY) -m pytest -n auto --maxprocesses 4

test-cuda: $(STAMP)
	$(PY) -m pytest --device cuda

# Not part of `make test`; every benchmark is a benchmarks/bench_*.py program, printing ratios
# (benchmarks/README.md says what each measures):
#   bench_blocks  the block runner against in-process exec, pytest-codeblocks and a subprocess
#                 per block (median of 3 rounds)
#   bench_build   builds cold / warm / after one edit / plugin off at BENCH_PAGES generated
#                 pages (default 50,200,500; in a temporary copy), in a fresh process and as
#                 `mkdocs serve` rebuilds; peak memory, site size, page weight, search index
#   bench_serve_edit  `mkdocs serve`: save -> site rebuilt after a body, title and status edit,
#                 at the first and last BENCH_PAGES count, ours against the plugin off; and in a
#                 real `mkdocs serve`, save -> the edited page on screen in Chromium
#   bench_cold_build  a fresh clone's first build: notebooks run beside the blocks (after) or one
#                 after another (before, KB_NOTEBOOK_JOBS=0), against plugin off; and on a fresh
#                 machine (Matplotlib's cache empty)
#   bench_search  search index size per page and keystroke-to-results time in Chromium
#   bench_search_quality  recall@1/@5 and MRR of the real search box, kb's order vs lunr's
# A quick look: make bench BENCH_PAGES=20 BENCH_REPEAT=1
BENCH_PAGES  ?= 50,200,500
BENCH_REPEAT ?= 1
comma := ,
bench: $(STAMP)
	$(PY) -m benchmarks.bench_blocks
	$(PY) -m benchmarks.bench_build --pages $(BENCH_PAGES) --repeat $(BENCH_REPEAT)
	$(PY) -m benchmarks.bench_cold_build --repeat $(BENCH_REPEAT)  # a fresh clone's first build: notebooks beside the blocks or one by one
	$(PY) -m benchmarks.bench_serve_edit --pages $(firstword $(subst $(comma), ,$(BENCH_PAGES))),$(lastword $(subst $(comma), ,$(BENCH_PAGES))) --repeat 3 --real
	$(PY) -m benchmarks.bench_search --pages $(lastword $(subst $(comma), ,$(BENCH_PAGES)))
	$(PY) -m benchmarks.bench_search_quality
	$(PY) -m benchmarks.bench_page_weight --pages $(lastword $(subst $(comma), ,$(BENCH_PAGES)))  # a Q&A page's first visit in Chromium, fonts included
	$(PY) -m benchmarks.bench_first_search --pages $(firstword $(subst $(comma), ,$(BENCH_PAGES))),$(lastword $(subst $(comma), ,$(BENCH_PAGES)))  # a page opened, its first search's first result, against stock Material

check: $(STAMP)
	$(PY) -m kb check

clean:
	rm -rf site .pytest_cache .cache
