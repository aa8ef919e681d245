# Two commands matter on a fresh machine: `make demo` and `make test` (see README.rst).
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DOCS_VENV := .venv-docs
# The fast tests run in this many processes (pytest-xdist); a file's tests stay together. The browser,
# services and packaging tests run after them, one at a time: they time real processes.
TEST_WORKERS ?= 2
FAST_TESTS := -m "not browser and not services and not packaging"

.PHONY: test test-fast lint demo docs bench bench-quick clean system-deps messages

$(PY):
	"$$(scripts/find-python38)" -m venv $(VENV)
	$(PY) -m pip install -q "pip==24.0" wheel "setuptools<70"

# pip 24.1+ refuses shuup 3.1.0's malformed metadata, hence pip 24.0.
$(STAMP): $(PY) setup.py constraints.txt
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

system-deps:
	scripts/system-deps

test: $(STAMP) system-deps
	$(PY) -m ruff check shoop_mailchimp tests benchmarks demo
	$(PY) -m pytest -q -rs -n $(TEST_WORKERS) --dist loadfile $(FAST_TESTS)
	SHOOP_MAILCHIMP_TESTS_NEED_ALL=1 $(PY) -m pytest -q -rs -m "browser or services or packaging"
	$(PY) benchmarks/run.py --quick

test-fast: $(STAMP)
	$(PY) -m pytest -q -x -n $(TEST_WORKERS) --dist loadfile $(FAST_TESTS)

lint: $(STAMP)
	$(PY) -m ruff check shoop_mailchimp tests benchmarks demo

demo: $(STAMP)
	$(PY) demo/run.py

# Every figure with its target, SQLite and PostgreSQL side by side, one summary line (about 10 minutes
# on a 2-core machine).
bench: $(STAMP) system-deps
	$(PY) benchmarks/run.py

# The same at small sizes (under 2 minutes); `make test` runs it: ratios printed, only a crash fails it.
bench-quick: $(STAMP) system-deps
	$(PY) benchmarks/run.py --quick

# Refreshes the catalogues from the code and templates and compiles them (needs GNU gettext);
# both files are committed, so installing never needs gettext.
messages: $(STAMP)
	cd shoop_mailchimp && PYTHONPATH=.. DJANGO_SETTINGS_MODULE=tests.settings ../$(PY) -m django shuup_makemessages -l fi
	msgfmt --check --statistics -o shoop_mailchimp/locale/fi/LC_MESSAGES/django.mo shoop_mailchimp/locale/fi/LC_MESSAGES/django.po

$(DOCS_VENV)/bin/sphinx-build:
	"$$(scripts/find-python38)" -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/pip install -q "sphinx==7.1.2" "sphinx-rtd-theme==2.0.0"

docs: $(DOCS_VENV)/bin/sphinx-build
	$(DOCS_VENV)/bin/sphinx-build -W -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) $(DOCS_VENV) docs/_build test-artifacts
