# Two commands (see README): `make run` and `make test`. Everything else here serves them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
REDIS_URL ?= redis://127.0.0.1:6379/0
export REDIS_URL

.PHONY: run test install translations

install: $(BIN)/.installed

$(BIN)/.installed: requirements.txt
	@$(PY) -m venv $(VENV) || { echo "Could not create a virtual environment: on Debian, apt-get install python3-venv"; exit 1; }
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

translations: $(BIN)/.installed
	@$(BIN)/pybabel compile -d translations >/dev/null

# Web + RQ worker + scheduler (+ Redis when none answers at REDIS_URL), kept by supervisord in
# the foreground (supervisord.conf): a process that dies is restarted; Ctrl-C ends all, exit 0.
run: install translations
	$(BIN)/flask --app app init-db
	$(BIN)/flask --app app seed-demo --if-empty
	WEB_PORT=$(PORT) $(BIN)/python -m jobs.run

# The whole suite: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set; browser tests
# use Debian's /usr/bin/chromium.
test: install translations
	$(BIN)/pytest $(PYTEST_ARGS)
