# canon — one non-recursive GNU Makefile.
#
#   make              build ./canon and build/libcanon.a
#   make run          install what is missing, build, start a localnet, follow it
#   make test         install what is missing, build, run every test
#   make test-SUITE   build and run one suite (tests/SUITE/) against only the
#                     modules it needs (SUITE_MODS_SUITE below)
#   make bench [BENCH=suite]   run benchmarks; one `bench suite/name value unit` line each
#   make fuzz [FUZZ_SECONDS=n] run every libFuzzer target briefly (clang)
#   make SAN=1 test   the same tests under ASan + UBSan (separate build dir)
#   make clean
#
# Sources are found by wildcard: a module is a directory under src/ holding .c
# files; tests/SUITE/*.c, bench/*.c and fuzz/*.c are picked up automatically.

.DEFAULT_GOAL := all
SHELL := /bin/bash

BUILD := build
SANFLAGS :=
ifeq ($(SAN),1)
BUILD := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

CC ?= cc
OPT ?= -O2
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
CPPFLAGS := -Isrc -MMD -MP -D_GNU_SOURCE
CFLAGS := -std=gnu17 $(OPT) -g -march=x86-64-v2 -Wall -Wextra -Werror -Wno-unused-parameter \
          -fno-strict-aliasing $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS)
LDLIBS := -lsecp256k1 -lnettle -lsodium -llmdb -luv -ljansson -lmicrohttpd -lzstd -lgmp -lpthread -lm

# ---- the library -----------------------------------------------------------
MODULES := $(sort $(patsubst src/%/,%,$(dir $(shell find src -name '*.c' ! -path 'src/cli/*'))))
LIB_SRC := $(sort $(shell find src -name '*.c' ! -path 'src/cli/*'))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libcanon.a
mod_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(foreach m,$(1),src/$(m)/*.c)))

CLI_SRC := $(sort $(wildcard src/cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
BIN := canon

# Files that want extra flags (generated tables, vector paths) say so here.
$(BUILD)/obj/src/cli/version.o: CPPFLAGS += -DCANON_GIT_COMMIT='"$(GIT_COMMIT)"' \
    -DCANON_BUILD_FLAGS='"$(strip $(CC) $(CFLAGS))"'

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/canon: $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

# ./canon is the normal build's binary; the sanitizer build keeps its own.
ifeq ($(SAN),1)
all: $(BUILD)/canon
else
all: $(BIN)
# Copy then rename: a running localnet keeps ./canon busy, and cp onto a
# busy executable fails ("Text file busy") and would leave ./canon stale.
$(BIN): $(BUILD)/canon
	cp $< $@.tmp && mv -f $@.tmp $@
endif

# ---- tests -----------------------------------------------------------------
# tests/common/ is linked into every test binary; every other directory under
# tests/ is a suite. The full run links all suites into one Criterion binary so
# that it ends with one summary line.
TEST_COMMON := $(sort $(wildcard tests/common/*.c))
SUITES := $(sort $(filter-out common external,$(patsubst tests/%/,%,$(dir $(wildcard tests/*/*.c)))))
TEST_SRC := $(foreach s,$(SUITES),$(wildcard tests/$(s)/*.c))
TEST_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(TEST_COMMON) $(TEST_SRC))
TEST_LIBS := -lcriterion $(LDLIBS)
$(BUILD)/obj/tests/%.o: CPPFLAGS += -Itests/common

# Modules each suite needs when built on its own (default: the whole library).
SUITE_MODS_base   := base
SUITE_MODS_crypto := base crypto codec
SUITE_MODS_codec  := base crypto codec
SUITE_MODS_trie   := base crypto codec trie
SUITE_MODS_bls    := base crypto/bls
SUITE_MODS_fec    := base fec
SUITE_MODS_consensus := base crypto crypto/bls consensus sim
SUITE_MODS_sim    := base crypto crypto/bls consensus sim
SUITE_MODS_keyfile := base crypto/keyfile crypto/bls
SUITE_MODS_store  := base crypto codec trie store
SUITE_MODS_core   := base crypto codec trie store core
SUITE_MODS_chain := base crypto crypto/bls codec trie store core state chain
SUITE_MODS_state  := base crypto codec trie store state
SUITE_MODS_net    := base fec net
# runtime: the whole library (rt_node drives the node core, RPC and everything below)
SUITE_MODS_txpool := base crypto codec trie store core txpool
SUITE_MODS_rpc    := base crypto crypto/bls codec trie store core state chain txpool rpc
SUITE_MODS_node   := base crypto crypto/bls crypto/keyfile codec trie store core state chain txpool consensus node

$(BUILD)/canon-tests: $(TEST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(LIB) $(TEST_LIBS)

define suite_rule
$(BUILD)/tests/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(TEST_COMMON) $(wildcard tests/$(1)/*.c)) \
                     $(if $(SUITE_MODS_$(1)),$(call mod_objs,$(SUITE_MODS_$(1))),$(LIB))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(TEST_LIBS)
test-$(1): deps $(BUILD)/tests/$(1)
	$(BUILD)/tests/$(1) $$(TEST_ARGS)
endef
$(foreach s,$(SUITES),$(eval $(call suite_rule,$(s))))

# Fuzz targets double as regression tests: fuzz/replay.c feeds every saved
# corpus and crash input to the target under the normal compiler.
FUZZ_TARGETS := $(sort $(basename $(notdir $(filter-out fuzz/replay.c,$(wildcard fuzz/*.c)))))
$(BUILD)/fuzz-replay/%: fuzz/%.c fuzz/replay.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ fuzz/$*.c fuzz/replay.c $(LIB) $(LDLIBS)

# An outside C program built only against the installed headers and libcanon.a.
$(BUILD)/external-check: tests/external/main.c $(LIB)
	$(CC) -std=c17 -Wall -Werror -Isrc $(SANFLAGS) -o $@ $< $(LIB) $(LDLIBS)

.PHONY: all run test test-long bench bench-deps fuzz clean deps sim
deps:
	@scripts/deps.sh
bench-deps:
	@scripts/deps.sh --bench

test: deps all $(BUILD)/canon-tests $(BUILD)/external-check $(FUZZ_TARGETS:%=$(BUILD)/fuzz-replay/%)
	@$(BUILD)/external-check
	@for t in $(FUZZ_TARGETS); do $(BUILD)/fuzz-replay/$$t fuzz/corpus/$$t fuzz/crashes/$$t || exit 1; done
	@tests/cli.sh $(BUILD)/canon
	$(BUILD)/canon-tests $(TEST_ARGS)

test-long: export CANON_TEST_LONG=1
test-long: test

# `make run`: a local network (bootnode, beacon + shards, 4 validators and an
# RPC node each) in ./localnet, then its status every 2 s. Ctrl-C stops the
# network (data stays; `make run` or ./canon localnet up resumes it). To keep
# it running in the background use ./canon localnet up / status / down.
# LOCALNET_DIR moves it; LOCALNET_ARGS passes options to `localnet up`
# (e.g. --block-time 1s or --port-offset 1000).
LOCALNET_DIR ?= localnet
LOCALNET_ARGS ?=
run: deps all
	./$(BIN) localnet up --dir $(LOCALNET_DIR) $(LOCALNET_ARGS)
	@echo "following ./$(BIN) localnet status every 2 s; Ctrl-C stops the localnet (data stays in $(LOCALNET_DIR))"
	@trap 'echo; ./$(BIN) localnet down --dir $(LOCALNET_DIR); exit 0' INT TERM; \
	while sleep 2; do \
	  if [ -t 1 ]; then printf '\033[H\033[2J'; fi; date '+%T'; ./$(BIN) localnet status --dir $(LOCALNET_DIR); \
	done

# ---- benchmarks ------------------------------------------------------------
BENCHES := $(sort $(basename $(notdir $(wildcard bench/*.c))))
$(BUILD)/bench/%: bench/%.c bench/bench.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)
# bench/node.c drives a localnet through the canon binary.
$(BUILD)/bench/node: $(BUILD)/canon
bench: bench-deps $(if $(BENCH),$(BUILD)/bench/$(BENCH),$(BENCHES:%=$(BUILD)/bench/%))
	@for b in $(if $(BENCH),$(BENCH),$(BENCHES)); do $(BUILD)/bench/$$b || exit 1; done

# ---- fuzzing (clang libFuzzer) ---------------------------------------------
FUZZ_SECONDS ?= 10
FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := -std=gnu17 -O1 -g -Isrc -D_GNU_SOURCE -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(FUZZ_BUILD)/%: fuzz/%.c $(FUZZ_LIB_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS)
fuzz: deps $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t fuzz/crashes/$$t $(FUZZ_BUILD)/corpus/$$t; \
	  echo "fuzz $$t for $(FUZZ_SECONDS)s"; \
	  $(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	    -artifact_prefix=fuzz/crashes/$$t/ $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t \
	    >$(FUZZ_BUILD)/$$t.log 2>&1 || { tail -40 $(FUZZ_BUILD)/$$t.log; exit 1; }; \
	  tail -1 $(FUZZ_BUILD)/$$t.log; \
	done

# A long simulator soak: every scenario at committee sizes 4/25/100.
SEEDS ?= 200
sim: all
	./$(BIN) sim soak --seeds $(SEEDS)

clean:
	rm -rf build build-san build-fuzz $(BIN)

-include $(shell find build build-san build-fuzz -name '*.d' 2>/dev/null)
