# cella: one build. `make` builds build/cella; `make check` runs every test
# (unit, integration, conformance); `make CC=clang` builds with clang;
# `make SAN=1` builds with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-san/.

CC      ?= gcc
SAN     ?=
PKGS    := jansson libseccomp
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Isrc $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lm

ifeq ($(SAN),1)
BUILD   ?= build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build
endif

SRCS := $(wildcard src/core/*.c src/oci/*.c src/level/*.c src/level/*/*.c src/cli/*.c)
LIB_SRCS := $(filter-out src/cli/%,$(SRCS))
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit format format-check clean install
all: $(BUILD)/cella

$(BUILD)/cella: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
	ln -sf cella $(BUILD)/cella-container

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

unit: $(UNIT_BINS)

# The README's test command: installs what is missing, builds with gcc,
# clang and the sanitizers, runs every test and prints `N passed, N failed`.
check:
	scripts/test.sh

format:
	clang-format -i $(SRCS) $(wildcard src/*/*.h src/level/*/*.h tests/unit/*.[ch] bench/*.c)

format-check:
	clang-format --dry-run -Werror $(SRCS) $(wildcard src/*/*.h src/level/*/*.h tests/unit/*.[ch] bench/*.c)

install: $(BUILD)/cella
	install -D -m 0755 $(BUILD)/cella $(DESTDIR)/usr/local/bin/cella

clean:
	rm -rf build build-san build-clang

-include $(OBJS:.o=.d)

# The main job: the cold-start shoot-out of cella against crun and runc on
# this machine (installs what is missing). `cella bench` will replace it.
.PHONY: bench
bench:
	scripts/deps.sh
	$(MAKE) -s all
	bench/coldstart.sh --runs $${RUNS:-20} crun runc $(CURDIR)/build/cella
