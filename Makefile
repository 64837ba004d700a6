# The two commands: `make run` (set up and start everything with demo data) and
# `make test` (the whole suite). Both create .venv themselves.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_DEBUG ?= 1

.PHONY: run test install lint check-deploy clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py compiletranslations
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  企业门户 Portal:       http://$(HOST):$(PORT)/portal/  (ent_admin, ent_operator)"
	@echo "  管理后台 Admin:        http://$(HOST):$(PORT)/admin/"
	@echo "  API 文档 API docs:     http://$(HOST):$(PORT)/api/docs/"
	@echo "  演示账号见上 (demo logins above); Ctrl-C 停止 (stops everything)"
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" MAS_HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho start -f Procfile.dev

test: install
	$(BIN)/python manage.py compiletranslations
	DJANGO_DEBUG=0 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_DEBUG=0 $(BIN)/python manage.py makemigrations --check --dry-run

check-deploy: install
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY="ci-$$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" \
	DJANGO_ALLOWED_HOSTS=mas.example.cn $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var/*.sqlite3* var/celery var/static
