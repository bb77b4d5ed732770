# make demo: the article's walkthrough on the embedded SWF.  make test: the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# test processes: twice the cores, as the end-to-end tests spend part of their time waiting for their subprocesses
JOBS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 2) * 2 )))
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# Every test starts the scripts as new processes: each reads cached bytecode (compiled once, first) instead of compiling
# swfagent again
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test fuzz lint bench soak lock clean

# requirements.txt holds the ranges; constraints.txt the versions CI tested, which a fresh machine gets.
# The project itself in compat editable mode: a plain path in a .pth, no import hook loaded at each interpreter start.
$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt -c constraints.txt
	$(PIP) --no-deps --no-build-isolation --config-settings editable_mode=compat -e .
	touch $@

demo: $(VENV)/.installed
	$(PY) -m swfagent demo

test: $(VENV)/.installed
	$(PY) -m compileall -q swfagent
	$(PY) -m pytest -q -n $(JOBS) --dist loadgroup

# the property tests with 20 times as many inputs as make test gives them (about a minute)
fuzz: $(VENV)/.installed
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest -q -n auto tests/test_fuzz.py tests/test_decide_properties.py tests/test_decide_states_properties.py tests/test_ids.py tests/test_web_fuzz.py tests/test_local_http_fuzz.py

lint: $(VENV)/.installed
	$(PIP) ruff mypy types-PyYAML
	$(PY) -m ruff check .
	$(PY) -m mypy swfagent

bench: $(VENV)/.installed
	$(PY) bench/decider.py
	$(PY) bench/poll_cost.py
	$(PY) bench/map.py

soak: $(VENV)/.installed
	$(PY) bench/soak.py

# constraints.txt anew: the newest versions requirements.txt allows, installed in a clean venv
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	{ echo "# The versions CI tested: make installs requirements.txt with these (pip -c). Refresh: make lock"; \
	  .lock-venv/bin/python -m pip freeze --all --disable-pip-version-check | grep -v '^pip=='; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
