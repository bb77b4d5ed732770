# make demo: the article's walkthrough on the embedded SWF.  make test: the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

demo: $(VENV)/.installed
	$(PY) -m swfagent demo

test: $(VENV)/.installed
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(PY) -m pip install --quiet ruff mypy types-PyYAML
	$(PY) -m ruff check .
	$(PY) -m mypy swfagent

bench: $(VENV)/.installed
	$(PY) bench/decider.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
