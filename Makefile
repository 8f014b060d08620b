# make lab    — set up .venv with JupyterLab and open the notebooks
# make test   — set up .venv with the test tools and run every test and notebook, then the browser suite,
#               the slide-fit test and the JupyterHub test
# make test-browser — only the browser suite: JupyterLab in headless Chromium (tests/browser)
# make test-slides  — only the slide-fit test: every chapter's slideshow at 1280x720
# make test-hub     — only the JupyterHub test: two students pull the series with nbgitpuller (tests/hub)
# make bench  — run benchmarks/bench_*.py and write benchmarks/results.md
# make notebooks — re-execute notebooks in place (all, or NB=notebooks/01_embeddings.ipynb)
# make site   — the static HTML edition of every notebook in _site/ (offline, from the committed outputs)
#
# Each target needs only python3 and make; it creates .venv on first use and
# reinstalls only when pyproject.toml has changed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
# No progress bars in tests and notebook runs; a fixed hash seed for determinism.
export TQDM_DISABLE := 1
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
# Every Python process of a test run (kernels included) loads tests/offline/sitecustomize.py,
# which refuses connections outside loopback: the series must work offline.
TEST_ENV := PYTHONPATH=$(CURDIR)/tests/offline

NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb)) $(sort $(wildcard notebooks/solutions/*.ipynb))
NB ?= $(NOTEBOOKS)
# On a machine without a screen (CI, a server), do not try to open a browser.
LAB_FLAGS := $(if $(or $(CI),$(if $(DISPLAY),,headless)),--no-browser,)
# Jupyter refuses to start as root (containers, some CI) unless told it is deliberate.
LAB_FLAGS += $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test test-kernels test-notebooks test-browser test-slides test-hub bench notebooks site clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[test]'
	touch $@

$(VENV)/.installed-site: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[site]'
	touch $@

# The browser suite needs JupyterLab and Playwright too (Chromium itself is the system's /usr/bin/chromium),
# and the hub test JupyterHub and nbgitpuller.
$(VENV)/.installed-browser: pyproject.toml $(VENV)/.installed-test
	$(PIP) install -q -e '.[test,lab,browser,hub]'
	touch $@

# The hub test's proxy, configurable-http-proxy, from the npm registry (kept inside .venv).
CHP := $(VENV)/node/node_modules/.bin/configurable-http-proxy
$(CHP):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node configurable-http-proxy

$(VENV)/.installed-lab: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[lab]'
	touch $@

lab: $(VENV)/.installed-lab
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) notebooks/

test: test-kernels test-notebooks test-browser test-slides test-hub

test-kernels: $(VENV)/.installed-test
	$(TEST_ENV) $(PY) -m pytest tests --ignore=tests/browser --ignore=tests/hub

# Skipped, with the reason, where Chromium or the extras are missing (pytest -ra lists it).
# Installing the extras is tried but not required: offline without them, the tests report SKIPPED.
test-browser: $(VENV)/.installed-test
	-@$(MAKE) --no-print-directory $(VENV)/.installed-browser
	$(TEST_ENV) $(PY) -m pytest -p no:cacheprovider tests/browser -m "not slides"

test-slides: $(VENV)/.installed-test
	-@$(MAKE) --no-print-directory $(VENV)/.installed-browser
	$(TEST_ENV) $(PY) -m pytest -p no:cacheprovider tests/browser -m slides

# A real JupyterHub on loopback, two students pulling the series with nbgitpuller (tests/hub).
# Skipped, with the reason, where its parts cannot be installed.
test-hub: $(VENV)/.installed-test
	-@$(MAKE) --no-print-directory $(VENV)/.installed-browser
	-@command -v configurable-http-proxy >/dev/null || $(MAKE) --no-print-directory $(CHP)
	$(TEST_ENV) $(PY) -m pytest -p no:cacheprovider -ra tests/hub

test-notebooks: $(VENV)/.installed-test
	$(TEST_ENV) $(PY) -m pytest -p no:cacheprovider --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg \
		--nbval-cell-timeout=120 $(NOTEBOOKS)

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[test,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(TEST_ENV) $(PY) benchmarks/run.py

notebooks: $(VENV)/.installed-test
	$(TEST_ENV) $(PY) -m nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=300 --ExecutePreprocessor.store_widget_state=False \
		--ExecutePreprocessor.record_timing=False $(NB)

site: $(VENV)/.installed-site
	$(PY) tools/build_site.py --out _site

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis _site
