# The two commands: `make run` (serve the site on the embedded default) and
# `make test` (the whole suite). Both set everything up on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: install run worker test lint format bench messages translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalling also compiles the translation catalogues in place (build_hooks.py).
$(VENV)/.installed: pyproject.toml build_hooks.py \
  $(wildcard campaign/translations/*/LC_MESSAGES/*.po) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Database upgraded, content loaded if missing, then the site and a worker.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask campaign seed
	@echo "Serving on http://$(HOST):$(PORT) (mail is written to instance/mail/)"
	@bash -c 'trap "kill 0" EXIT; \
	  $(BIN)/celery --app=wsgi:celery worker --pool=solo --loglevel=info \
	    --beat --schedule=instance/celerybeat-schedule & \
	  $(BIN)/flask run --host $(HOST) --port $(PORT)'

worker: install
	$(BIN)/celery --app=wsgi:celery worker --loglevel=info \
	  --beat --schedule=instance/celerybeat-schedule

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/load.py

# Extract translatable text into campaign/messages.pot (not committed); the
# keywords beyond Babel's own (_, gettext, ngettext, N_) are Flask-Babel's lazy
# ones, as tests/test_messages.py reads them.
LOCALES := fa_AF ps
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext \
	  -k lazy_ngettext:1,2 --add-comments=TRANSLATORS: --sort-by-file \
	  -o campaign/messages.pot .

# Bring each catalogue in line with the .pot, then compile them. Messages no
# longer used are dropped (--ignore-obsolete), so no stale "#~" entries linger
# for translators to puzzle over; git keeps the old words. A changed message
# comes back empty, not as a fuzzy guess (--no-fuzzy-matching): the guess keeps
# the old placeholders, which pybabel compile (and so the install) refuses.
translations: messages
	for locale in $(LOCALES); do \
	  $(BIN)/pybabel update -i campaign/messages.pot -d campaign/translations \
	    -l $$locale --init-missing --ignore-obsolete --no-fuzzy-matching \
	    || exit 1; \
	done
	$(BIN)/pybabel compile -d campaign/translations --statistics

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis build dist
