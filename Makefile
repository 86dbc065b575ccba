# Quick start: `make demo` (set-up, then the demo) and `make test` (set-up,
# then every test: C++ through CTest, Python through pytest). Set-up is
# idempotent: a second run only rebuilds what changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
CPP_BUILD := build/cpp
DEPS_STAMP := $(VENV)/.deps-installed
INSTALL_STAMP := build/.tfreeze-installed
SOURCES := $(shell find cpp python third_party -type f -not -name '*.pyc') CMakeLists.txt pyproject.toml
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test setup lint cpp-test py-test bench clean system-deps

demo: $(INSTALL_STAMP)
	$(BIN)/tfreeze demo

test: $(INSTALL_STAMP) lint cpp-test py-test

setup: $(INSTALL_STAMP)

# The environment: build requirements read from pyproject.toml (one place for
# the TensorFlow pin), plus cmake and ninja for the C++ test build.
$(DEPS_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(PY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' \
	  | xargs -d '\n' $(BIN)/pip install --quiet cmake ninja
	# tf_keras freezes Keras 2 .h5 files (in a child process). --no-deps: it
	# names the full `tensorflow` wheel, and tensorflow-cpu already provides it.
	$(BIN)/pip install --quiet --no-deps "tf-keras==2.21.*"
	touch $@

# The package itself, built against the environment's TensorFlow (no build
# isolation: the build directory is kept, so rebuilds are incremental).
$(INSTALL_STAMP): $(DEPS_STAMP) $(SOURCES) | system-deps
	$(BIN)/pip install --quiet --no-build-isolation ".[test]"
	mkdir -p $(dir $@) && touch $@

# GoogleTest (C++ tests), CLI11 (C++ tools' arguments), cpp-httplib
# (tfreeze-serve's HTTP server, found through pkg-config) and Graphviz (`dot`
# for `tfreeze graph`) come from Debian.
SYSTEM_PACKAGES := libgtest-dev libcli11-dev libcpp-httplib-dev pkg-config graphviz
system-deps:
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $(SYSTEM_PACKAGES); }

cpp-test: system-deps $(DEPS_STAMP)
	$(BIN)/cmake -S . -B $(CPP_BUILD) -G Ninja -DPython_EXECUTABLE=$(abspath $(PY)) \
	  -DTFREEZE_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(BIN)/cmake --build $(CPP_BUILD)
	$(BIN)/ctest --test-dir $(CPP_BUILD) --output-on-failure

lint: $(INSTALL_STAMP)
	$(BIN)/ruff check python tests benchmarks
	$(BIN)/ruff format --check python tests benchmarks

py-test: $(INSTALL_STAMP)
	$(PY) -m pytest

bench: $(INSTALL_STAMP)
	$(BIN)/cmake -S . -B build/bench -G Ninja -DPython_EXECUTABLE=$(abspath $(PY)) \
	  -DTFREEZE_BUILD_BENCHMARKS=ON -DTFREEZE_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(BIN)/cmake --build build/bench --target overhead
	$(PY) benchmarks/run.py --overhead build/bench/benchmarks/overhead

clean:
	rm -rf build $(VENV)
