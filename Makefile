# Two commands for a newcomer: `make demo` and `make test`. Everything else is a helper they call.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# torch==2.13.0 (CPU) is installed from the local wheel folder when the machine has one.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
# Installed without their declared dependencies: tinysoundfont (the default audio synthesizer) declares pyaudio, which
# only its live-playback method uses and which needs PortAudio headers to build; rendering to a buffer needs none.
NO_DEPS := tinysoundfont==0.3.7

.PHONY: demo test install lint format

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Chartbusters and its dependencies into $(VENV) (first run: a few minutes)..."
	@$(BIN)/pip install -q --upgrade pip
	@$(BIN)/pip install -q $(FIND_LINKS) -e ".[dev]"
	@$(BIN)/pip install -q --no-deps $(NO_DEPS)
	@touch $(STAMP)

install: $(STAMP)

# The scripts print what they run on first, then install (if needed) through `make install`.
demo:
	@bash scripts/demo.sh

test:
	@bash scripts/test.sh

lint: install
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .
