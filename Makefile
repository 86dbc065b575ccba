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

.PHONY: demo test setup lint cpp-build cpp-test py-test bench clean system-deps fuzz-deps fuzz sanitize soak

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

cpp-build: system-deps $(DEPS_STAMP)
	$(BIN)/cmake -S . -B $(CPP_BUILD) -G Ninja -DPython_EXECUTABLE=$(abspath $(PY)) \
	  -DTFREEZE_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(BIN)/cmake --build $(CPP_BUILD)

# Two tests at a time, one per core of CI's machine. Each test runs in its own
# process and writes only files of its own (tests/cpp/temp_file.h).
cpp-test: cpp-build
	$(BIN)/ctest --test-dir $(CPP_BUILD) --output-on-failure --parallel 2

# Fuzzing, sanitizers and soak (docs/reliability.md). Not part of `make test`,
# which runs only a seconds-long fuzz replay and a short leak test.
FUZZ_PACKAGES := clang libclang-rt-14-dev
FUZZ_SECONDS ?= 600
SANITIZE_ENV := ASAN_OPTIONS=detect_leaks=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1
fuzz-deps:
	@dpkg -s $(FUZZ_PACKAGES) >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $(FUZZ_PACKAGES); }

fuzz: fuzz-deps system-deps $(INSTALL_STAMP)
	$(PY) tests/fuzz/make_corpus.py build/fuzz/corpus
	$(BIN)/cmake -S . -B build/fuzz -G Ninja -DPython_EXECUTABLE=$(abspath $(PY)) \
	  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTFREEZE_BUILD_FUZZERS=ON \
	  -DTFREEZE_BUILD_TESTS=OFF -DTFREEZE_BUILD_TOOLS=OFF -DTFREEZE_SANITIZE=address,undefined >/dev/null
	$(BIN)/cmake --build build/fuzz --target fuzz_load fuzz_feed
	mkdir -p build/fuzz/corpus/feed build/fuzz/artifacts
	for target in load feed; do \
	  $(SANITIZE_ENV) build/fuzz/tests/fuzz/fuzz_$$target -max_total_time=$(FUZZ_SECONDS) $$([ $$target = load ] && echo -dict=tests/fuzz/load.dict) \
	    -artifact_prefix=build/fuzz/artifacts/ build/fuzz/corpus/$$target \
	    tests/fuzz/regressions/$$target || exit 1; done
	$(BIN)/pip install --quiet atheris
	$(PY) tests/fuzz/fuzz_python.py -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus/load

sanitize: system-deps $(DEPS_STAMP)
	$(BIN)/cmake -S . -B build/sanitize -G Ninja -DPython_EXECUTABLE=$(abspath $(PY)) \
	  -DTFREEZE_BUILD_TESTS=ON -DTFREEZE_BUILD_TOOLS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTFREEZE_SANITIZE=address,undefined >/dev/null
	$(BIN)/cmake --build build/sanitize
	$(SANITIZE_ENV) $(BIN)/ctest --test-dir build/sanitize --output-on-failure

soak: cpp-build
	TFREEZE_LEAK_CYCLES=10000 $(CPP_BUILD)/tests/cpp/tfreeze_tests --gtest_filter='LeakTest.*'
	$(CPP_BUILD)/tests/cpp/tfreeze_soak

lint: $(INSTALL_STAMP)
	$(BIN)/ruff check python tests benchmarks
	$(BIN)/ruff format --check python tests benchmarks

# The tests that install tfreeze's C++ package install cpp-build's (one C++ build).
py-test: $(INSTALL_STAMP) cpp-build
	TFREEZE_TEST_CPP_BUILD=$(abspath $(CPP_BUILD)) $(PY) -m pytest

bench: $(INSTALL_STAMP)
	$(BIN)/cmake -S . -B build/bench -G Ninja -DPython_EXECUTABLE=$(abspath $(PY)) \
	  -DTFREEZE_BUILD_BENCHMARKS=ON -DTFREEZE_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(BIN)/cmake --build build/bench --target overhead
	$(PY) benchmarks/run.py --overhead build/bench/benchmarks/overhead \
	  --compiled-bench "$(abspath $(PY)) benchmarks/compiled_bench.py {pb} {model} {batch} {threads} {workdir}" \
	  --compiled-start "{workdir}/compiled/{model}/bin/{model}-bench --iterations 1 --warmup 0 --json" \
	  $(BENCH_ARGS)

clean:
	rm -rf build $(VENV)
