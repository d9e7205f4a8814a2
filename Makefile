# SPDX-License-Identifier: GPL-2.0-only
# fragscope: one non-recursive Makefile (modelled on libbpf-bootstrap's examples/c/Makefile).
#   make            release build, leaves ./fragscope
#   make test       all tests (root-only tests skip with a reason when not root)
#   make check      clean sanitizer build (-fsanitize=address,undefined -Werror) + tests + exit() grep
#   make bench      benchmarks, one line per figure: bench NAME VALUE UNIT [vs PEER RATIO]
#   make deps       install build dependencies with apt-get
#   make static     ./fragscope-static, the reduced static build for the kernel lab's guests
#   make lab        the kernel lab's full matrix in qemu (make lab-golden: traces/golden/ captures)
#   make install    PREFIX=/usr/local DESTDIR=
#   V=1             show full commands

VERSION   := 0.1.0
OUTPUT    ?= .output
BIN       ?= fragscope
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
CLANG     ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/;s/ppc64le/powerpc/;s/s390x/s390/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# ---- dependencies: installed on demand (Debian packages only) -------------------------------
NODEPS_GOALS := deps clean distclean help
ifeq ($(filter $(NODEPS_GOALS),$(MAKECMDGOALS)),)
ifneq ($(FRAGSCOPE_DEPS_CHECKED),1)
DEPS_STATE := $(shell scripts/deps.sh --install 1>&2; echo $$?)
ifneq ($(DEPS_STATE),0)
$(error build dependencies are missing; run 'make deps' as root)
endif
export FRAGSCOPE_DEPS_CHECKED := 1
endif
endif

PKGS      := libbpf libelf zlib libzstd libtraceevent libtracecmd ncursesw cairo
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

GIT_REV   := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

ifeq ($(SAN),1)
OPTFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -Werror
SANLDFLAGS := -fsanitize=address,undefined
else
# -O3, and link-time optimisation of ./fragscope across modules (replay's hot loop calls many
# small allocator/ functions): fragscope replay runs ~8% fewer instructions. Fat objects keep
# the tests' and benches' links (without -flto) as they were.
OPTFLAGS  := -O3 -g
LTOFLAGS  := -flto=auto -ffat-lto-objects
SANLDFLAGS :=
endif

CFLAGS    ?=
CFLAGS    += $(OPTFLAGS) -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
             -Wshadow -Wformat=2 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
             -I. -I$(OUTPUT) $(PKG_CFLAGS) \
             -DFRAGSCOPE_VERSION='"$(VERSION)"' -DFRAGSCOPE_GIT_REV='"$(GIT_REV)"'
LDFLAGS   ?=
LDFLAGS   += $(SANLDFLAGS)
LDLIBS    := $(PKG_LIBS) -lm -lpthread

# ---- sources ----------------------------------------------------------------------------------
MODULES   := util allocator traces collector replay viz workload lab
LIB_SRCS  := $(filter-out %.bpf.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
CMD_SRCS  := main.c $(wildcard cmd-*.c)

# ---- STATIC=1 (`make static`): a reduced, statically linked fragscope for the lab's qemu guests.
# Left out: import, view and render (libtracecmd has no static archive in Debian; ncurses and
# cairo are not needed in a guest) and any source that includes their headers; those commands
# then say "not available in this build" (cmd-unavailable.c). libbpf CO-RE makes the binary run
# unchanged on the guests' 6.1 and 6.12 kernels.
ifeq ($(STATIC),1)
STATIC_CMDS := import view render
STATIC_EXCL := $(foreach c,$(STATIC_CMDS),cmd-$(c).c) $(wildcard viz/*.c) \
               $(shell grep -lE '^\#include <(trace-cmd/|ncurses|curses|cairo)' $(LIB_SRCS) $(CMD_SRCS) /dev/null 2>/dev/null)
LIB_SRCS  := $(filter-out $(STATIC_EXCL),$(LIB_SRCS))
CMD_SRCS  := $(filter-out $(STATIC_EXCL),$(CMD_SRCS))
LDLIBS    := -ltracefs -ltraceevent -lbpf -lelf -lzstd -lz -lm -lpthread
CFLAGS    += -DFRAGSCOPE_STATIC $(foreach c,$(STATIC_CMDS),-DFRAGSCOPE_WITHOUT_$(shell echo $(c) | tr a-z A-Z))
LDFLAGS   += -static -s
endif
BPF_SRCS  := $(wildcard collector/*.bpf.c)
SKELS     := $(patsubst collector/%.bpf.c,$(OUTPUT)/collector/%.skel.h,$(BPF_SRCS))
LIB_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
CMD_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(CMD_SRCS))
LIB       := $(OUTPUT)/libfragscope.a

UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
BENCH_SRCS := $(wildcard tests/bench/bench-*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz-*.c)

.PHONY: all build test check bench install deps clean distclean help fuzz static man
.DEFAULT_GOAL := all
.SECONDARY:
.DELETE_ON_ERROR:

all: build
build: $(BIN)

$(OUTPUT) $(OUTPUT)/tests $(OUTPUT)/bench $(sort $(dir $(LIB_OBJS) $(CMD_OBJS))):
	$(Q)mkdir -p $@

# ---- BPF: vmlinux.h from the running kernel's BTF, clang -target bpf, bpftool skeleton --------
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)if [ -r $(VMLINUX_BTF) ]; then $(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@; \
	else echo "fragscope: $(VMLINUX_BTF) is not readable: cannot generate vmlinux.h" >&2; exit 1; fi

$(OUTPUT)/collector/%.bpf.o: collector/%.bpf.c $(OUTPUT)/vmlinux.h $(wildcard collector/*.bpf.h) | $(OUTPUT)/collector/
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -I. -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/collector/%.skel.h: $(OUTPUT)/collector/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# ---- C ----------------------------------------------------------------------------------------
$(OUTPUT)/%.o: %.c | $(SKELS) $(sort $(dir $(LIB_OBJS) $(CMD_OBJS)))
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LTOFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(CMD_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(if $(LTOFLAGS),$(OPTFLAGS) $(LTOFLAGS)) $(LDFLAGS) $(CMD_OBJS) $(LIB) $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(LIB) | $(OUTPUT)/tests $(SKELS)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) $< $(LIB) $(LDLIBS) $(CMOCKA_LIBS) -o $@

$(OUTPUT)/bench/%: tests/bench/%.c $(LIB) | $(OUTPUT)/bench $(SKELS)
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(UNIT_BINS:=.d) $(BENCH_BINS:=.d)

# Objects that print the git revision are rebuilt when it changes.
$(OUTPUT)/git-rev.stamp: FORCE | $(OUTPUT)
	$(Q)echo '$(GIT_REV)' | cmp -s - $@ || echo '$(GIT_REV)' > $@
$(OUTPUT)/main.o $(OUTPUT)/cmd-lab.o $(OUTPUT)/cmd-record.o: $(OUTPUT)/git-rev.stamp
.PHONY: FORCE
FORCE:

# ---- targets ----------------------------------------------------------------------------------
test: $(BIN) $(UNIT_BINS)
	$(Q)FRAGSCOPE=$(abspath $(BIN)) FRAGSCOPE_OUTPUT=$(abspath $(OUTPUT)) tests/run-tests.sh $(UNIT_BINS)

check:
	$(Q)rm -rf $(OUTPUT)/check
	$(Q)$(MAKE) --no-print-directory SAN=1 OUTPUT=$(OUTPUT)/check BIN=$(OUTPUT)/check/fragscope test
	$(Q)scripts/check-no-exit.sh

bench: $(BIN) $(BENCH_BINS)
	$(Q)FRAGSCOPE=$(abspath $(BIN)) FRAGSCOPE_OUTPUT=$(abspath $(OUTPUT)) tests/bench/run-bench.sh $(BENCH_BINS)

man: $(BIN)
	$(Q)scripts/gen-man.sh ./$(BIN) $(OUTPUT)/man

install: $(BIN) man
	$(Q)install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/fragscope
	$(Q)for m in $(OUTPUT)/man/*.[15]; do \
	  install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/$$(basename $$m); done
	@echo "installed $(DESTDIR)$(PREFIX)/bin/fragscope"

# the guest binary of `fragscope lab` (see STATIC=1 above): ./fragscope-static
static:
	$(Q)rm -f $(OUTPUT)/static/main.o	# its version string names the commit
	$(Q)$(MAKE) --no-print-directory STATIC=1 SAN= OUTPUT=$(OUTPUT)/static BIN=fragscope-static build

# the kernel lab's full matrix (6.1, 6.12 x 256M..1G x workloads; LAB_KERNELS, LAB_MEMS,
# LAB_WORKLOADS narrow it), and the golden lab captures in traces/golden/ (tests/lab/matrix.sh)
.PHONY: lab lab-golden
lab: $(BIN) static
	$(Q)FRAGSCOPE=./$(BIN) tests/lab/matrix.sh

lab-golden: $(BIN) static
	$(Q)LAB_GOLDEN=1 LAB_MEMS="$${LAB_MEMS:-256M 512M}" LAB_WORKLOADS="$${LAB_WORKLOADS:-fragment thp}" \
	  FRAGSCOPE=./$(BIN) tests/lab/matrix.sh

deps:
	$(Q)scripts/deps.sh --install

clean:
	$(Q)rm -rf $(OUTPUT) $(BIN) fragscope-static

distclean: clean

help:
	@sed -n '2,/^$$/s/^# //p' Makefile

# ---- fuzzing (libFuzzer): make fuzz [FUZZ_TIME=seconds per target] ------------------------------
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_TIME ?= 60
FUZZ_LIB_SRCS := $(wildcard traces/*.c util/*.c)

$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(wildcard traces/*.h util/*.h)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(OUTPUT)/fuzz
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	  -I. $(PKG_CFLAGS) -DFRAGSCOPE_VERSION='"$(VERSION)"' -DFRAGSCOPE_GIT_REV='"$(GIT_REV)"' \
	  $< $(FUZZ_LIB_SRCS) $(PKG_LIBS) -lm -o $@

fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do \
	  c=$(OUTPUT)/fuzz/corpus-$$(basename $$f); mkdir -p $$c; \
	  for s in tests/data/traces/*.fst; do [ -e "$$s" ] && { printf '\000'; cat "$$s"; } > $$c/seed-$$(basename $$s); done; \
	  echo "fuzz: $$f for $(FUZZ_TIME)s (corpus $$c)"; \
	  $$f -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 -print_final_stats=1 $$c || exit 1; \
	done

# ---- demo: the README's first command --------------------------------------------------------
.PHONY: demo
demo: $(BIN)
	$(Q)scripts/demo.sh
