# Two commands on a fresh machine: `make demo` and `make test`.
# Python 3.11 or 3.12 (durable_rules 2.0.28 does not import on 3.13), a C compiler, make, git.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3,11) <= sys.version_info[:2] < (3,13))' \
	2>/dev/null && { echo $$p; break; }; done)
DEMO_OUT ?= out/demo

.PHONY: demo test install clean golden bench messages

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "cchc needs Python 3.11 or 3.12 (durable_rules does not import on 3.13)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/pybabel --quiet compile -d engine/locale -D cchc
	@# bytecode written now, so no command pays for compiling the sources at start-up
	$(BIN)/python -m compileall -q cli.py commands engine rules reports web >/dev/null
	@# the table of characters UTF-8 encodes that Hypothesis's text strategies need (2.5 s of CPU), made
	@# now into .hypothesis/ rather than by a test process of the first `make test`
	-@$(BIN)/python -c 'from hypothesis.internal.charmap import intervals_from_codec as f; f("utf-8")' 2>/dev/null
	@touch $@

install: $(BIN)/.installed

demo: install
	@bash scripts/ensure_pdf.sh
	@bash scripts/demo.sh "$(BIN)" "$(DEMO_OUT)"

test: install
	@bash scripts/ensure_browser.sh
	@bash scripts/ensure_pdf.sh
	@# all tests on two workers, and the workspace tests again on PostgreSQL alongside them (but the browser tests)
	bash scripts/run_tests.sh $(BIN)

bench: install
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

golden: install
	@bash scripts/regen_golden.sh "$(BIN)"

clean:
	rm -rf $(VENV) out build *.egg-info

# Messages people read (engine/core/i18n.py): extract the texts from the code, merge them into the
# Vietnamese catalogue engine/locale/vi/LC_MESSAGES/cchc.po (translate the new entries there).
messages: install
	$(BIN)/pybabel --quiet extract --no-location --sort-output -k _ -k N_ -k both -k ngettext:1,2 -o engine/locale/cchc.pot cli.py commands engine reports rules
	$(BIN)/pybabel --quiet update --no-fuzzy-matching --ignore-obsolete -i engine/locale/cchc.pot -d engine/locale -D cchc
