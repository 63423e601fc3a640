# The two commands of the README: `make run` and `make test`.
# Everything else here is what they are made of.
# The interpreter's real path (a pyenv shim would make uv rebuild .venv on every run).
PYTHON ?= $(shell python3.11 -c 'import sys; print(sys.executable)' 2>/dev/null || python3 -c 'import sys; print(sys.executable)')
VENV := .venv
UV_VERSION := 0.13.9
UV := .tools/bin/uv
PY := $(VENV)/bin/python

export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test test-deep fuzz-deep install browser lint format check-deploy demo ci

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen --python $(PYTHON)

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

run: demo
	$(PY) manage.py runserver 127.0.0.1:8000

test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

# The model-based test of the programme's invariants with many more examples and a random seed
# (README, "Model-based test"); SONS_MODEL_EXAMPLES / SONS_MODEL_STEPS override the counts.
test-deep: install
	SONS_DEEP=1 $(PY) -m pytest -p no:cacheprovider tests/test_programme_invariants.py $(PYTEST_ARGS)

# The schemathesis runs of the API (README, "Fuzzing the API") with many more examples, a random
# seed and the coverage phase; SONS_FUZZ_EXAMPLES / SONS_FUZZ_SCENARIOS / SONS_FUZZ_STEPS
# override the counts.
fuzz-deep: install
	SONS_DEEP=1 $(PY) -m pytest -p no:cacheprovider tests/test_api_fuzz.py $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium: installed here when we are root on Debian, else skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && { apt-get install -y -qq chromium >/dev/null 2>&1 \
	       || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; }; } \
	  || echo "chromium absent: browser tests will be skipped (apt-get install chromium)"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
