# Build, test and read the book "Convolutional Neural Networks in Medical Image Analysis".
#
#   make book    create .venv, install, vendor the JS, execute every chapter, build _build/html
#   make test    unit tests, nbval over every notebook, strict book build, offline + browser tests
#   make robust  every chapter under several CPU kernel sets, BOOK_SEEDs and thread counts
#   make lab     JupyterLab on notebooks/
#   make bench   run every benchmarks/bench_*.py
#   make clean   remove build outputs (keeps .venv and _vendor); `make distclean` removes them too
#
# Nothing here is specific to one machine. pip reads the machine's own configuration
# (`pip config list`: /etc/pip.conf, /etc/xdg/pip/pip.conf, PIP_* variables) exactly as it
# would outside the venv, so a local CPU wheel of torch is found where it is configured.
# Where pip has no configured package source at all, torch comes from the PyTorch CPU index
# (TORCH_INDEX_URL), never the default CUDA build. After installing, a check refuses a CUDA torch.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
JB := $(VENV)/bin/jupyter-book
STAMP := $(VENV)/.book-installed

TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
# Flags for the requirements install: empty when pip already has a configured source
# (find-links or an index), else the PyTorch CPU index as an extra index.
# (grep -c reads all of pip's output: with pipefail, grep -q could fail the pipe by SIGPIPE.)
TORCH_PIP_FLAGS ?= $(shell [ "$$($(PYTHON) -m pip config list 2>/dev/null | grep -Ec '(find-links|index-url)')" -gt 0 ] \
                     || echo --extra-index-url $(TORCH_INDEX_URL))
JUPYTERLAB_VERSION ?= 4.6.4

# JavaScript served with the book (from the npm registry, exact versions).
MATHJAX_VERSION := 3.2.2
REQUIREJS_VERSION := 2.3.8
HTML_MANAGER_VERSION := 1.0.15
NOTO_SC_VERSION := 5.3.0
VENDOR := _vendor
VENDOR_HTML := $(VENDOR)/html/vendor
# axe-core, the accessibility checker the browser test injects into built pages (not shipped with the book).
AXE_VERSION := 4.14.1
AXE_JS := $(VENDOR)/test/axe-core-$(AXE_VERSION)/axe.min.js
VENDOR_STAMP := $(VENDOR)/.stamp-mathjax-$(MATHJAX_VERSION)-requirejs-$(REQUIREJS_VERSION)-html-manager-$(HTML_MANAGER_VERSION)-noto-sc-$(NOTO_SC_VERSION)-v3

# Extra jupyter-book arguments, e.g. JB_ARGS="--toc /tmp/toc.yml" to build a subset while writing.
JB_ARGS ?=
HTML := _build/html
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser || command -v google-chrome || true)

.PHONY: help venv vendor book test unit nbval nbval-other-cpu build-other-cpu robust build-strict book-tests browser-deps lab bench clean distclean

help:
	@sed -n '3,9s/^# *//p' Makefile

# --- environment -----------------------------------------------------------------------
venv: $(STAMP)

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed, got " + sys.version'
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install $(TORCH_PIP_FLAGS) -r requirements.txt
	$(PY) -m pip install --no-deps -e .
	$(PY) -c 'import torch, sys; cuda = torch.version.cuda; \
	  print("torch", torch.__version__, "CPU build" if cuda is None else "CUDA " + cuda); \
	  sys.exit("a CUDA build of torch was installed; this book pins the CPU build" if cuda else 0)'
	touch $@

# --- vendored JavaScript (offline book) ----------------------------------------------------
vendor: $(VENDOR_STAMP) $(AXE_JS)

# Test-only: under _vendor/test, outside _vendor/html, so html_extra_path never copies it into the book.
$(AXE_JS):
	@command -v npm >/dev/null || { echo "npm is needed once, to fetch axe-core for the browser test"; exit 1; }
	mkdir -p $(VENDOR)/npm $(dir $@)
	cd $(VENDOR)/npm && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null
	tar -xzf $(VENDOR)/npm/axe-core-$(AXE_VERSION).tgz -C $(dir $@) --strip-components=1 package/axe.min.js package/LICENSE
	test -s $@

$(VENDOR_STAMP):
	@command -v npm >/dev/null || { echo "npm is needed once, to fetch MathJax, require.js and the widget manager"; exit 1; }
	rm -rf $(VENDOR)/npm $(VENDOR)/html $(VENDOR)/.stamp-*
	mkdir -p $(VENDOR)/npm $(VENDOR_HTML)/mathjax $(VENDOR_HTML)/requirejs $(VENDOR_HTML)/html-manager
	mkdir -p $(VENDOR_HTML)/fonts/noto-sans-sc/files
	cd $(VENDOR)/npm && npm pack --silent mathjax@$(MATHJAX_VERSION) requirejs@$(REQUIREJS_VERSION) \
	  @jupyter-widgets/html-manager@$(HTML_MANAGER_VERSION) @fontsource/noto-sans-sc@$(NOTO_SC_VERSION) >/dev/null
	tar -xzf $(VENDOR)/npm/mathjax-$(MATHJAX_VERSION).tgz -C $(VENDOR_HTML)/mathjax --strip-components=2 package/es5
	tar -xzf $(VENDOR)/npm/requirejs-$(REQUIREJS_VERSION).tgz -C $(VENDOR_HTML)/requirejs --strip-components=1 package/require.js
	tar -xzf $(VENDOR)/npm/jupyter-widgets-html-manager-$(HTML_MANAGER_VERSION).tgz -C $(VENDOR_HTML)/html-manager \
	  --strip-components=2 --exclude='*.map' package/dist
	# Keep one MathJax combined component (tex-mml-chtml.js, with its lazily loaded extensions,
	# CHTML fonts, menu and speech rules) and the AMD embedder of the widget manager.
	find $(VENDOR_HTML)/mathjax -maxdepth 1 -name '*.js' ! -name tex-mml-chtml.js -delete
	rm -rf $(VENDOR_HTML)/mathjax/output/svg $(VENDOR_HTML)/mathjax/output/svg.js
	rm -f $(VENDOR_HTML)/html-manager/embed.js $(VENDOR_HTML)/html-manager/libembed-amd.js
	# The widget manager typesets with the MathJax 2 API (MathJax.Hub.Queue), a TypeError under
	# MathJax 3: call MathJax 3's typesetPromise where it exists (and nothing before MathJax has loaded).
	sed -i 's/MathJax\.Hub\.Queue(\["Typeset",MathJax\.Hub,\([a-z]\)\])/(MathJax.typesetPromise?MathJax.typesetPromise([\1]):MathJax.Hub\&\&MathJax.Hub.Queue(["Typeset",MathJax.Hub,\1]))/g' \
	  $(VENDOR_HTML)/html-manager/embed-amd.js
	! grep -q 'void 0!==window.MathJax&&MathJax.Hub.Queue' $(VENDOR_HTML)/html-manager/embed-amd.js
	# Chinese text: Noto Sans SC (SIL OFL), regular weight, woff2 split by unicode-range, so a page
	# downloads only the pieces holding the characters it shows.
	tar -xzf $(VENDOR)/npm/fontsource-noto-sans-sc-$(NOTO_SC_VERSION).tgz -C $(VENDOR_HTML)/fonts/noto-sans-sc \
	  --strip-components=1 --wildcards 'package/400.css' 'package/LICENSE' 'package/files/*-400-normal.woff2'
	sed -i 's/, url([^)]*\.woff) format(.woff.)//' $(VENDOR_HTML)/fonts/noto-sans-sc/400.css
	test -f $(VENDOR_HTML)/mathjax/tex-mml-chtml.js && test -f $(VENDOR_HTML)/requirejs/require.js \
	  && test -f $(VENDOR_HTML)/html-manager/embed-amd.js && test -f $(VENDOR_HTML)/fonts/noto-sans-sc/400.css
	! grep -q '\.woff)' $(VENDOR_HTML)/fonts/noto-sans-sc/400.css
	touch $@

# --- the book ------------------------------------------------------------------------------
# The chapters' widgets are built as static explorers for the book (their controls switch
# precomputed pictures in the browser, no kernel): companion.widgets.static_pages() reads this
# variable, which every command of these targets (and the kernels they start) inherits.
book build-strict: export COMPANION_STATIC_WIDGETS := 1
# Stale doctrees can break ipywidget rendering, so they go before every HTML build.
# A cell that raises stops the build (nb_execution_raise_on_error in _config.yml): the error names
# the notebook and the cell, make exits non-zero, and the pages already in _build/html stay as they were.
# Before each build tools/preexecute.py empties the execution cache and runs every notebook, one
# per CPU core, into it (execute_notebooks: cache); the build then reads the outputs from there, and
# re-runs (and stops on) any notebook that failed. A subset build (JB_ARGS) skips that step.
PREEXECUTE = $(if $(JB_ARGS),,$(PY) tools/preexecute.py $(NOTEBOOKS))
book: venv vendor
	rm -rf _build/.doctrees
	$(PREEXECUTE)
	$(JB) build . $(JB_ARGS) || { echo; echo "make book: FAILED: a chapter raised (its notebook and cell are named above); nothing new was published"; exit 1; }
	@echo
	@echo "The book is built. Open it in a browser (no network needed):"
	@echo "  file://$(CURDIR)/$(HTML)/index.html"

# --- tests ---------------------------------------------------------------------------------
# nbval runs through tools/nbval.py, which re-runs once, alone, a notebook whose kernel died while
# starting (a race between two workers' kernels, not a failing cell).
# Order: fast unit tests and every docstring example (--doctest-modules) on 2 workers; every notebook
# under nbval (this machine's kernels, BOOK_SEED 0); the strict build (any warning fails it), whose
# execution runs every notebook again the way another reader's laptop does (torch's AVX2 kernels,
# BOOK_SEED 1), so every assert is checked under two settings; then the checks of the built HTML
# (offline scan, Chromium). companion/train.py and companion/explain.py are aliases of
# companion/models/{train,explain}.py, whose examples run there.
# --keep-going: every step runs and reports, and `make test` fails if any step failed.
test: venv vendor browser-deps
	$(MAKE) --no-print-directory --keep-going unit nbval build-other-cpu book-tests

build-other-cpu:
	ATEN_CPU_CAPABILITY=avx2 BOOK_SEED=1 $(MAKE) --no-print-directory build-strict

unit: venv
	$(PY) -m pytest tests companion --doctest-modules -n 2 -m "not browser" --ignore=tests/test_book_offline.py --ignore=companion/train.py --ignore=companion/explain.py -p no:cacheprovider

nbval: venv
ifeq ($(NOTEBOOKS),)
	@echo "nbval: no notebooks in notebooks/ yet"
else
	$(PY) tools/nbval.py -n 2 --dist loadfile $(NOTEBOOKS)
endif

# The notebooks under nbval as another reader's laptop runs them: torch's AVX2 kernels (most
# laptops) and another BOOK_SEED (make test covers this setting through build-other-cpu).
nbval-other-cpu: venv
	ATEN_CPU_CAPABILITY=avx2 BOOK_SEED=1 $(PY) tools/nbval.py -n 2 --dist loadfile $(NOTEBOOKS)

# Every chapter under a matrix of (CPU kernel set, BOOK_SEED, threads); prints a table of which
# chapter failed where. ROBUST="avx2:4:1 default:9:2" runs other settings.
ROBUST ?=
robust: venv
	$(PY) tools/robust.py $(ROBUST)

build-strict: venv vendor
	rm -rf _build/.doctrees
	$(PREEXECUTE)
	$(JB) build . -W -n --keep-going $(JB_ARGS)

# BOOK_TESTS_REQUIRED=1: a missing build or browser fails these tests instead of skipping them.
book-tests: venv $(AXE_JS)
	BOOK_TESTS_REQUIRED=1 CHROMIUM="$(CHROMIUM)" AXE_JS="$(AXE_JS)" $(PY) -m pytest tests/test_book_offline.py tests/test_book_browser.py -p no:cacheprovider

browser-deps:
	@if [ -n "$(CHROMIUM)" ]; then echo "browser: $(CHROMIUM)"; \
	elif command -v apt-get >/dev/null; then \
	  sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y --no-install-recommends chromium; \
	else echo "Install Chromium (or set CHROMIUM=/path/to/chrome) for the browser test"; exit 1; fi

# --- reading and measuring ------------------------------------------------------------------
lab: venv
	@$(PY) -c 'import jupyterlab' 2>/dev/null || $(PY) -m pip install -c requirements.txt jupyterlab==$(JUPYTERLAB_VERSION)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks $$([ "$$(id -u)" -ne 0 ] || echo --allow-root)

bench: venv
	@set -- benchmarks/bench_*.py; [ -e "$$1" ] || { echo "no benchmarks/bench_*.py yet"; exit 0; }; \
	for f in "$$@"; do echo "== $$f"; $(PY) "$$f"; done

# clean keeps what was downloaded (.venv, _vendor), so the book can be rebuilt offline.
clean:
	rm -rf _build .jupyter_cache .pytest_cache .hypothesis
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(VENDOR)
