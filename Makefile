# The two commands: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app srpp
PO := $(wildcard srpp/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: run test bench translations extract-messages lint worker beat clean audit-deps

run: $(STAMP) $(MO)
	$(FLASK) db upgrade
	$(FLASK) reference load
	$(FLASK) demo load
	@$(FLASK) demo logins
	@echo "Serving on http://127.0.0.1:5000 (Ctrl+C to stop)"
	$(FLASK) run --host 127.0.0.1 --port 5000

test: $(STAMP) $(MO)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP) $(MO)
	$(BIN)/python -m bench.run

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ 2>/dev/null || $(BIN)/pybabel compile -i $< -o $@

translations: $(MO)

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -o srpp/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i srpp/translations/messages.pot -d srpp/translations --no-fuzzy-matching

audit-deps: $(STAMP)
	$(BIN)/python scripts/audit-deps

lint: $(STAMP)
	$(BIN)/ruff check .

worker: $(STAMP) $(MO)
	$(BIN)/celery -A workers.celery_app worker --loglevel=INFO

beat: $(STAMP) $(MO)
	$(BIN)/celery -A workers.celery_app beat --loglevel=INFO

clean:
	rm -rf $(VENV) instance/srpp.sqlite3* .pytest_cache
