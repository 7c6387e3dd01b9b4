# facility_log: `make run` to try it, `make test` to check it. Both start from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint format migrate demo bench clean backup restore messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the dependency list or the pinned versions change.
$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput

demo: migrate
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo

run: demo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:8000

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not browser" -x -q $(PYTEST_ARGS)

# After marking or changing strings: refresh the German catalogue, translate what is new in
# facility_log/locale/de/LC_MESSAGES/django.po, then run this again and commit .po and .mo
# (needs GNU gettext; docs/translations.md).
messages: install
	cd facility_log && DEBUG=1 ../$(BIN)/python ../manage.py makemessages -l de --no-location --no-obsolete
	DEBUG=1 $(BIN)/python manage.py compilemessages -l de --ignore "$(VENV)"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# bench/data.py is not a benchmark: it builds the volume bench/pages.py measures (once, and
# again with `bench/pages.py --build`).
bench: install
	@for script in bench/*.py; do \
		[ "$$script" = bench/data.py ] || $(BIN)/python $$script || exit 1; \
	done

# Backups (docs/operations.md): `make backup` writes backups/<UTC time>/ (or BACKUP=<new folder>);
# `make restore BACKUP=backups/<folder>` asks before it overwrites anything.
BACKUP ?= backups/$(shell date -u +%Y%m%dT%H%M%SZ)

backup: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py backup --out $(BACKUP)

restore: install
	@[ "$(origin BACKUP)" != file ] || { echo "make restore BACKUP=backups/<folder>: say which backup"; exit 2; }
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py restore $(BACKUP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
