# The two commands: `make demo` and `make test`. Both install what is missing
# (Debian 12 packages, via scripts/install-deps.sh), then build into build/.
PYTHON  ?= /usr/bin/python3
JOBS    ?= $(shell nproc)
BUILD   := build
ASAN    := build/asan

.PHONY: all deps build asan demo test clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE=$(PYTHON) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Unit and behaviour tests under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DDOSNA_SANITIZE=ON \
	  -DDOSNA_WITH_PYTHON=OFF -DDOSNA_BUILD_TOOLS=OFF -DDOSNA_WITH_MPI=OFF >/dev/null
	@cmake --build $(ASAN) -j $(JOBS) --target dosna_tests

demo: build
	@bash scripts/demo.sh

test: build asan
	@bash scripts/run-tests.sh

clean:
	rm -rf $(BUILD)
