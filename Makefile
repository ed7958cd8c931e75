# SPDX-License-Identifier: MIT
# The two README commands, `make run` and `make test`, and the rest of the developer loop.
# CMake does the building; this file only installs what is missing and calls it.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_RELEASE ?= build-release
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc)
CONFIG     ?= etc/mumu.xml
RUN_SECONDS ?= 3

.PHONY: all build deps run test unit-test asan-test e2e-test format format-check bench fuzz clean install deb

all: build

deps:
	@scripts/deps.sh build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Without /dev/kvm on this host the system runs inside a QEMU VM with nested KVM (tests/vm/).
run: build
	@scripts/deps.sh test
	@echo "make run: $(CONFIG) for $(RUN_SECONDS) s: each partition's console as [name] lines, the supervisor's log, then a table of the windows each got"
	tests/vm/with-kvm.sh $(BUILD)/bin/mumu-supervisor --duration $(RUN_SECONDS) $(CONFIG)

# Every test: the format check, unit tests (plain and under ASan+UBSan), the config cases,
# and the end-to-end tests on real KVM (inside a QEMU VM when this host has no /dev/kvm).
test:
	@scripts/deps.sh test
	$(MAKE) build
	$(MAKE) format-check
	$(MAKE) unit-test
	$(MAKE) asan-test
	$(MAKE) e2e-test

unit-test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE e2e

asan-test: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DMUMU_SANITIZE=ON
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS) -LE e2e

e2e-test: build
	tests/vm/run-e2e.sh $(BUILD)

# A Release build (no test hooks) installed under PREFIX (into DESTDIR when given): the
# programs, the schema, the examples, and the SDK for partition programs (docs/sdk.md).
install: deps
	cmake -S . -B $(BUILD_RELEASE) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD_RELEASE) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD_RELEASE)

# A Debian package of the same (scripts/deb.sh): build/mumu_VERSION-1_ARCH.deb.
deb: deps
	scripts/deb.sh $(BUILD_RELEASE) $(BUILD)

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files --cached --others --exclude-standard '*.c' '*.h') && echo "format: ok"

bench:
	@scripts/deps.sh bench
	$(MAKE) build
	bench/run.sh $(BUILD)

fuzz:
	@scripts/deps.sh fuzz
	tests/fuzz/run.sh $(BUILD)-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD)-fuzz
