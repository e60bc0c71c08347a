# nspawn-pod: one non-recursive Makefile.
#
#   make            build the command, the library, the helpers and the stage1 image
#   make stage1     build the stage1 image, $(BUILD)/stage1-host.aci
#   make check      install what is missing, build, run every test
#   make demo       install what is missing, build, show an example pod
#   make bench      benchmarks (figures and ratios, no pass/fail)
#   make fuzz       long fuzzing runs (FUZZ_SECONDS=…)
#   make golden-update   regenerate tests/golden expectations from the code
#
# BUILD=dir puts every artefact under dir (default: build), so several trees
# can be built side by side.

BUILD ?= build
VERSION := 0.1
CC ?= gcc
FUZZ_CC ?= clang
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
LIBEXECDIR ?= $(PREFIX)/lib/nspawn-pod

PKGS := jansson libsystemd libseccomp mount libacl libarchive

# Resolved lazily: `make deps` may be what installs pkg-config's data.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARNINGS := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Werror=shadow -Werror=missing-prototypes -Werror=strict-prototypes \
	-Werror=format=2 -Werror=implicit-function-declaration \
	-Werror=incompatible-pointer-types -Werror=switch-default -Werror=return-type \
	-Werror=vla -Wformat-nonliteral -Wpointer-arith -Wdate-time

BASE_CFLAGS := -std=gnu17 -D_GNU_SOURCE -Ilib -Iflavors/host $(WARNINGS) -fno-strict-aliasing -g \
	-DLIBEXECDIR='"$(LIBEXECDIR)"' -DNSPAWN_POD_VERSION='"$(VERSION)"'
OPT_CFLAGS ?= -O2
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Each function and object in a section of its own, and the linker drops
# what a program does not use: every program links the whole library, and
# the stage1 image, copied into each pod, is 40 % smaller for it.
SECTION_CFLAGS := -ffunction-sections -fdata-sections
GC_LDFLAGS := -Wl,--gc-sections

ALL_CFLAGS = $(BASE_CFLAGS) $(OPT_CFLAGS) $(SECTION_CFLAGS) $(PKG_CFLAGS) $(CFLAGS)
SAN_CFLAGS = $(BASE_CFLAGS) -O1 $(SAN_FLAGS) $(PKG_CFLAGS) $(CFLAGS)

# The flavors' run-time setup of a stage1 root is library code; their
# entrypoints (below) are programs.
LIB_SRCS := $(sort $(wildcard lib/*.c flavors/*/stage1-*.c))
CMD_SRCS := $(sort $(wildcard nspawn-pod/*.c))
UNIT_TEST_SRCS := $(sort $(wildcard tests/unit/test-*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
BENCH_SRCS := $(sort $(wildcard tests/bench/bench-*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(BUILD)/obj/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)
SAN_CMD_OBJS := $(CMD_SRCS:%.c=$(BUILD)/san/%.o)

LIB := $(BUILD)/libnspawnpod.a
SAN_LIB := $(BUILD)/libnspawnpod-san.a
CMD := $(BUILD)/nspawn-pod
SAN_CMD := $(BUILD)/nspawn-pod-san
UNIT_TESTS := $(UNIT_TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZERS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
BENCHES := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)

export BUILD

.DEFAULT_GOAL := all

.PHONY: all stage1 deps check check-run demo bench fuzz fuzzers golden-update clean install format tests

# The helpers and the enter and gc entrypoints (prepare-app, reaper, enter,
# gc): one directory each, every .c in it linked with the library.
HELPER_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard prepare-app/*.c reaper/*.c enter/*.c gc/*.c))))
HELPERS := $(HELPER_DIRS:%=$(BUILD)/libexec/%)

define helper_rule
$(BUILD)/libexec/$(1): $(wildcard $(1)/*.c) $(wildcard $(1)/*.h) $(LIB)
	@mkdir -p $$(dir $$@)
	@echo "  HELPER  $$@"
	@$$(CC) $$(ALL_CFLAGS) -I$(1) -o $$@ $(wildcard $(1)/*.c) $(LIB) $$(PKG_LIBS) $$(GC_LDFLAGS) $$(LDFLAGS)
endef
$(foreach h,$(HELPER_DIRS),$(eval $(call helper_rule,$(h))))

# The host flavor's run and stop entrypoints, one program each.
ENTRYPOINTS := $(BUILD)/libexec/init $(BUILD)/libexec/stop
$(BUILD)/libexec/%: flavors/host/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  ENTRY   $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) $(GC_LDFLAGS) $(LDFLAGS)

# app-stdio runs inside the apps' roots, where no C library can be assumed:
# static, and without one where it has system call glue for the architecture
# (flavors/host/app-stdio.c).
APP_STDIO := $(BUILD)/libexec/app-stdio
ifneq ($(filter x86_64-% aarch64-%,$(shell $(CC) -dumpmachine)),)
APP_STDIO_CFLAGS := -nostdlib -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns
else
APP_STDIO_CFLAGS := -DAPP_STDIO_LIBC
endif
$(APP_STDIO): flavors/host/app-stdio.c
	@mkdir -p $(dir $@)
	@echo "  STATIC  $@"
	@$(CC) -std=gnu17 $(WARNINGS) -O2 -g -static -fno-pie -no-pie -fno-stack-protector \
		-fno-asynchronous-unwind-tables $(APP_STDIO_CFLAGS) -o $@ $<

# The stage1 image: the programs above and the helpers, the static units,
# the skeleton (flavors/host/rootfs.list), the manifest from its template.
STAGE1 := $(BUILD)/stage1-host.aci
$(STAGE1): $(HELPERS) $(ENTRYPOINTS) $(APP_STDIO) flavors/host/rootfs.list flavors/host/os-release \
		manifests/stage1-host.manifest.in build-aux/mkaci $(wildcard units/*) $(wildcard flavors/host/net.d/*)
	@echo "  ACI     $@"
	@build-aux/mkaci $(BUILD) flavors/host/rootfs.list manifests/stage1-host.manifest.in $(VERSION) $@

all: $(CMD) $(HELPERS) $(ENTRYPOINTS) $(APP_STDIO) $(STAGE1)

stage1: $(STAGE1)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-SAN  $@"
	@$(CC) $(SAN_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(SAN_LIB): $(SAN_LIB_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(CMD): $(CMD_OBJS) $(LIB)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $(CMD_OBJS) $(LIB) $(PKG_LIBS) $(GC_LDFLAGS) $(LDFLAGS)

# The command built with ASan/UBSan: the golden cases also run through it.
$(SAN_CMD): $(SAN_CMD_OBJS) $(SAN_LIB)
	@echo "  LD-SAN  $@"
	@$(CC) $(SAN_CFLAGS) -o $@ $(SAN_CMD_OBJS) $(SAN_LIB) $(PKG_LIBS) $(LDFLAGS)

# Unit tests are always built with the sanitizers.
$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h $(SAN_LIB)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(SAN_CFLAGS) -Itests/unit -o $@ $< $(SAN_LIB) $(PKG_LIBS) $(LDFLAGS)

# libFuzzer targets (clang only).
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(BASE_CFLAGS) -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$(PKG_CFLAGS) -o $@ $< $(LIB_SRCS) $(PKG_LIBS)

$(BUILD)/bench/%: tests/bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) $(LDFLAGS)

# Static, libc-only test app run inside pods (tests/probe/README.md). No
# sanitizers: they do not mix with -static.
PROBE := $(BUILD)/probe
$(PROBE): tests/probe/probe.c
	@mkdir -p $(dir $@)
	@echo "  PROBE   $@"
	@$(CC) $(BASE_CFLAGS) -O2 -static -o $@ $<

tests: all $(SAN_CMD) $(UNIT_TESTS) $(PROBE)

fuzzers: $(FUZZERS)

deps:
	@build-aux/install-deps

check: deps
	@$(MAKE) --no-print-directory tests fuzzers
	@tests/run-all

demo: deps
	@$(MAKE) --no-print-directory all
	@build-aux/demo

bench: deps
	@$(MAKE) --no-print-directory all $(BENCHES)
	@tests/bench/run

fuzz: deps
	@$(MAKE) --no-print-directory fuzzers
	@tests/fuzz/run $${FUZZ_SECONDS:-300}

golden-update: $(CMD)
	@tests/golden/run --update

install: all
	install -D -m 0755 $(CMD) $(DESTDIR)$(PREFIX)/bin/nspawn-pod
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(HELPERS) $(DESTDIR)$(LIBEXECDIR)/
	install -m 0755 $(ENTRYPOINTS) $(DESTDIR)$(LIBEXECDIR)/
	install -m 0644 $(STAGE1) $(DESTDIR)$(LIBEXECDIR)/

format:
	clang-format -i $(LIB_SRCS) $(wildcard lib/*.h) $(CMD_SRCS) $(wildcard nspawn-pod/*.h flavors/*/*.c)

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(SAN_LIB_OBJS:.o=.d) $(SAN_CMD_OBJS:.o=.d)
