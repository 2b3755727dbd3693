# cella: one build. `make` builds build/cella; `make check` runs every test
# (unit, integration, conformance); `make CC=clang` builds with clang;
# `make SAN=1` builds with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-san/.

CC      ?= gcc
SAN     ?=
PKGS    := jansson libseccomp
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Isrc -I. $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lm

ifeq ($(SAN),1)
BUILD   ?= build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build
endif

# src/proto/: the host-guest frames, built into both cella and the agent.
SRCS := $(wildcard src/core/*.c src/oci/*.c src/proto/*.c src/level/*.c src/level/*/*.c \
	src/level/*/*/*.c src/cgroup/*.c src/cli/*.c)
# cella bench: a program of its own, so that cella's start path carries none of it.
BENCH_SRCS := $(wildcard bench/src/*.c)
# It shares cella's small helpers (errors, whole-file reads).
BENCH_OBJS := $(BENCH_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/src/core/util.o $(BUILD)/src/core/error.o
BENCH_LIB_OBJS := $(filter-out $(BUILD)/bench/src/bench.o,$(BENCH_OBJS))
BENCH_TEST_SRCS := $(wildcard tests/bench/test_*.c)
BENCH_TEST_BINS := $(BENCH_TEST_SRCS:tests/bench/%.c=$(BUILD)/tests/bench-%)
MUSL_GCC := $(shell command -v musl-gcc 2>/dev/null)
HTTPD_CC := $(if $(MUSL_GCC),$(MUSL_GCC),gcc)
LIB_SRCS := $(filter-out src/cli/%,$(SRCS))
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check soak unit format format-check clean install fuzz fuzz-wasm fuzz-wasm-instantiate
all: $(BUILD)/cella $(BUILD)/cella-bench $(BUILD)/cella-bench-httpd

$(BUILD)/cella-bench: $(BENCH_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The bench's workload: static and stripped, the whole of a distroless rootfs.
$(BUILD)/cella-bench-httpd: bench/httpd.c
	@mkdir -p $(dir $@)
	$(HTTPD_CC) -std=gnu11 -Wall -Wextra -Werror -Os -static -s -o $@ $<

$(BUILD)/tests/bench-%: tests/bench/%.c $(BENCH_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibench/src -Itests/unit $(LDFLAGS) -o $@ $< $(BENCH_LIB_OBJS) $(LDLIBS)

$(BUILD)/cella: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
	ln -sf cella $(BUILD)/cella-container
	ln -sf cella $(BUILD)/cella-qemu
	ln -sf cella $(BUILD)/cella-wasm
	ln -sf cella $(BUILD)/cella-sandbox
	ln -sf cella $(BUILD)/cella-vm

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

# The WebAssembly spec suite runner (../shared/wasm-spec) and the decoder's fuzzer.
$(BUILD)/tests/wasm_spec: tests/conformance/wasm_spec.c tests/conformance/spec_exec.c tests/conformance/spec.h $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c,$^) $(LIB_OBJS) $(LDLIBS)

fuzz-wasm: tests/conformance/fuzz_decode.c src/level/wasm/decode.c src/core/error.c src/core/util.c
	@mkdir -p build
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -o build/fuzz_decode $^

# The whole load path: decode, validate, instantiate, compile every function.
FUZZ_INST_SRCS := $(addprefix src/level/wasm/,decode.c validate.c compile.c instance.c store.c interp.c jit.c jit_helpers.c jit_mem.c x64.c)
fuzz-wasm-instantiate: tests/conformance/fuzz_instantiate.c $(FUZZ_INST_SRCS) src/core/error.c src/core/util.c
	@mkdir -p build
	clang -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -Isrc -o build/fuzz_instantiate $^ -lm

# make fuzz: the parsers of untrusted input (config.json, state.json, the
# agent's frames and RUN fields), each fuzzed FUZZ_SECONDS from its seeds
# (tests/fuzz/seeds/NAME/) and the corpus it grew before (build/fuzz/NAME/);
# a crash stops it, the input in build/fuzz/crash-NAME-* (docs/reliability.md).
FUZZ_SECONDS ?= 60
FUZZ_NAMES := spec state proto
FUZZ_CC := clang -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Isrc -I.
FUZZ_LIBS := $(shell pkg-config --libs jansson)
build/fuzz/fuzz_spec: tests/fuzz/fuzz_spec.c src/oci/spec.c src/oci/spec_json.c src/core/error.c src/core/util.c
build/fuzz/fuzz_state: tests/fuzz/fuzz_state.c src/core/state.c src/core/error.c src/core/util.c
build/fuzz/fuzz_proto: tests/fuzz/fuzz_proto.c src/proto/protocol.c guest/agent/spawn.c
build/fuzz/fuzz_%:
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $(filter-out guest/%,$(filter %.c,$^)) $(FUZZ_LIBS)

fuzz: $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
	@for t in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz/$$t; echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
			-artifact_prefix=build/fuzz/crash-$$t- build/fuzz/$$t tests/fuzz/seeds/$$t \
			2>build/fuzz/$$t.log || { tail -40 build/fuzz/$$t.log; exit 1; }; \
		grep -E '^(stat::number_of_executed_units|Done)' build/fuzz/$$t.log; \
	done

unit: $(UNIT_BINS) $(BENCH_TEST_BINS) $(BUILD)/tests/wasm_spec

# The README's test command: installs what is missing, builds with gcc,
# clang and the sanitizers, runs every test and prints `N passed, N failed`.
check:
	scripts/test.sh

# make soak: the reliability suites (leaks, load, faults, escapes) at full
# size, against SOAK_CELLA (the gcc build): SOAK_CYCLES create/start/kill/
# delete per level (SOAK_QEMU_CYCLES at the qemu level), SOAK_PARALLEL
# containers at once per level, every fault point at every level. make check
# runs the same files at quick sizes. Figures: docs/reliability.md.
SOAK_CELLA ?= $(CURDIR)/build/cella
SOAK_CYCLES ?= 1000
SOAK_QEMU_CYCLES ?= 10
SOAK_PARALLEL ?= 200
SOAK_SUITES ?= leaks load faults escapes
soak: all
	@fail=0; for t in $(SOAK_SUITES); do \
		echo "== $$t"; start=$$(date +%s); \
		CELLA=$(SOAK_CELLA) CELLA_CYCLES=$(SOAK_CYCLES) CELLA_QEMU_CYCLES=$(SOAK_QEMU_CYCLES) \
			CELLA_PARALLEL=$(SOAK_PARALLEL) CELLA_SOAK=1 bash tests/integration/test_$$t.sh \
			> build/soak-$$t.log 2>&1; \
		grep -vE '^ok ' build/soak-$$t.log; \
		echo "$$t: $$(grep -cE '^ok ' build/soak-$$t.log) ok, $$(grep -cE '^not ok ' build/soak-$$t.log) not ok, $$(($$(date +%s) - start)) s"; \
		grep -qE '^not ok ' build/soak-$$t.log && fail=1; \
	done; exit $$fail

FORMAT_FILES = $(SRCS) $(BENCH_SRCS) $(wildcard src/*/*.h src/level/*/*.h src/level/*/*/*.h bench/src/*.h tests/unit/*.[ch] tests/bench/*.c tests/conformance/*.[ch] tests/fuzz/*.c tests/wasm/*.c tests/sandbox/*.c tests/escapes/*.c bench/*.c bench/compute/*.c guest/*/*.c guest/*/*.h tests/agent_client.c)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

# The qemu level's guest kernel (make kernel) and agent go where an
# installed cella looks for them: /usr/local/lib/cella.
install: all
	install -D -m 0755 $(BUILD)/cella $(DESTDIR)/usr/local/bin/cella
	install -D -m 0755 $(BUILD)/cella-bench $(DESTDIR)/usr/local/bin/cella-bench
	install -D -m 0755 $(BUILD)/cella-bench-httpd $(DESTDIR)/usr/local/bin/cella-bench-httpd
	install -D -m 0755 scripts/dockerd.sh $(DESTDIR)/usr/local/lib/cella/dockerd.sh
	ln -sf cella $(DESTDIR)/usr/local/bin/cella-container
	ln -sf cella $(DESTDIR)/usr/local/bin/cella-qemu
	ln -sf cella $(DESTDIR)/usr/local/bin/cella-wasm
	ln -sf cella $(DESTDIR)/usr/local/bin/cella-sandbox
	ln -sf cella $(DESTDIR)/usr/local/bin/cella-vm
	if [ -e $(BUILD)/vmlinux ]; then \
		install -D -m 0644 $(BUILD)/vmlinux $(DESTDIR)/usr/local/lib/cella/vmlinux; \
	fi
	if [ -f $(BUILD)/cella-agent.cpio ]; then \
		install -D -m 0755 $(BUILD)/cella-agent $(DESTDIR)/usr/local/lib/cella/cella-agent && \
		install -D -m 0644 $(BUILD)/cella-agent.cpio $(DESTDIR)/usr/local/lib/cella/cella-agent.cpio; \
	fi

clean:
	rm -rf build build-san build-clang

-include $(OBJS:.o=.d) $(BENCH_OBJS:.o=.d)

# The main job: `cella bench`, the runtime shoot-out on this machine (installs
# what is missing): cella's levels, crun, runc and runsc side by side; the
# reports go to bench-report.{json,md,html}.
.PHONY: bench
bench:
	scripts/deps.sh
	$(MAKE) -s all
	@# the qemu level's guest kernel (minutes, once per machine); without it the
	@# bench still runs and its cella-qemu row says why
	-$(MAKE) -s kernel
	build/cella bench --json bench-report.json --markdown bench-report.md --html bench-report.html

# ---- WebAssembly workloads ----
# The bench's httpd for wasm32-wasi (bench/httpd.c serves the socket the
# runtime preopens, as wasmtime's --tcplisten) and the compute benchmarks
# (bench/compute.sh: native vs node vs cella's engine). The toolchain is clang,
# lld, wasi-libc and libclang-rt-14-dev-wasm32 (scripts/deps.sh installs them);
# WASI_CC is empty when it cannot link a probe, and then the wasm targets only
# say why and `make` goes on without them.
WASI_CLANG   ?= clang
WASI_SYSROOT ?= /usr
WASI_CC := $(shell printf '\043include <stdio.h>\nint main(void) { return puts(""); }\n' | \
	$(WASI_CLANG) --target=wasm32-wasi --sysroot=$(WASI_SYSROOT) -x c -o /dev/null - 2>/dev/null && \
	echo '$(WASI_CLANG) --target=wasm32-wasi --sysroot=$(WASI_SYSROOT)')
WASI_SKIP := no wasm32-wasi toolchain ($(WASI_CLANG) --target=wasm32-wasi --sysroot=$(WASI_SYSROOT) cannot link; scripts/deps.sh installs clang lld wasi-libc libclang-rt-14-dev-wasm32)

ifneq ($(WASI_CC),)
all: $(BUILD)/cella-bench-httpd.wasm

# Stripped; 1 MiB of stack, since wasi-libc's poll() puts its subscriptions
# (two per fd) on the stack and the httpd polls up to 1000 connections.
$(BUILD)/cella-bench-httpd.wasm: bench/httpd.c
	@mkdir -p $(dir $@)
	$(WASI_CC) -std=gnu11 -Wall -Wextra -Werror -Os -Wl,--strip-all -Wl,-z,stack-size=1048576 -o $@ $<
else
.PHONY: $(BUILD)/cella-bench-httpd.wasm
$(BUILD)/cella-bench-httpd.wasm:
	@echo "skipped $@: $(WASI_SKIP)"
endif

# The compute benchmarks, with this build's cella as the engine.
.PHONY: bench-compute
bench-compute: $(BUILD)/cella
	bench/compute.sh --engine "$(BUILD)/cella wasm run"

# ---- Guest agent (PID 1 of the qemu level's VMs, later the vm level's) ----
# build/cella-agent: static with musl (docs/guest-agent.md); build/cella-agent.cpio:
# the initramfs holding it as /init, written by build/mkcpio from
# guest/initramfs/agent.list (no root needed for its /dev/console node).
# Without musl-gcc both are skipped with the reason. The agent's sources are
# also compiled by $(CC) (gcc, clang, the sanitizer build) for its warnings.
AGENT_SRCS := $(wildcard guest/agent/*.c) src/proto/protocol.c
AGENT_OBJS := $(AGENT_SRCS:%.c=$(BUILD)/%.o)
all: $(BUILD)/guest/agent.checked $(BUILD)/tests/agent_client

$(BUILD)/guest/agent.checked: $(AGENT_OBJS)
	@touch $@

$(BUILD)/mkcpio: guest/initramfs/mkcpio.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# The host end of the protocol for tests/integration/test_agent.sh.
$(BUILD)/tests/agent_client: tests/agent_client.c $(BUILD)/src/proto/protocol.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

# The agent's pure parts on the host (the test replaces its console.c).
AGENT_UNIT_OBJS := $(addprefix $(BUILD)/guest/agent/,cmdline.o channel.o queue.o) \
	$(BUILD)/src/proto/protocol.o
$(BUILD)/tests/test_agent: tests/unit/test_agent.c $(AGENT_UNIT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I. -Itests/unit $(LDFLAGS) -o $@ $^

ifneq ($(MUSL_GCC),)
all: $(BUILD)/cella-agent $(BUILD)/cella-agent.cpio

$(BUILD)/cella-agent: $(AGENT_SRCS) $(wildcard guest/agent/*.h src/proto/*.h)
	@mkdir -p $(dir $@)
	$(MUSL_GCC) -std=gnu11 -Wall -Wextra -Werror -Os -static -s -Isrc -o $@ $(AGENT_SRCS)

$(BUILD)/cella-agent.cpio: $(BUILD)/cella-agent $(BUILD)/mkcpio guest/initramfs/agent.list
	sed 's|@AGENT@|$(BUILD)/cella-agent|' guest/initramfs/agent.list | $(BUILD)/mkcpio > $@.tmp
	mv $@.tmp $@
else
.PHONY: $(BUILD)/cella-agent
$(BUILD)/cella-agent:
	@echo "skipped $@ and $@.cpio: no musl-gcc (scripts/deps.sh installs musl-tools)"
all: $(BUILD)/cella-agent
endif

-include $(AGENT_OBJS:.o=.d)

# ---- Guest kernel (the qemu level, later the vm level) ----
# An uncompressed x86-64 vmlinux from Debian's linux-source-6.1 with
# guest/kernel/cella.config; scripts/kernel.sh installs what it needs, builds
# once per fragment and source version into /var/cache/cella/kernel/<key>/ and
# prints the path. build/vmlinux links to it.
.PHONY: kernel
kernel:
	@mkdir -p build
	@path=$$(scripts/kernel.sh) && ln -sfn "$$path" build/vmlinux && echo "build/vmlinux -> $$path"
