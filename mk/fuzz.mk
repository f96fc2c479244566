# mk/fuzz.mk -- AFL++ fuzz targets, their replayers, the CI smoke run and
# coverage. See fuzz/README.md. Packages: tools/ci-deps-fuzz.sh (Debian
# afl++, gcovr).
#
#   make fuzz                      every target three ways, in $(BUILD)/fuzz/:
#                                    afl/<t>    afl-clang-fast, persistent mode
#                                    asan/<t>   replayer, ASan+UBSan
#                                    plain/<t>  replayer, -O1 -g (gdb, valgrind)
#   make fuzz-run TARGET=x SECONDS=n
#                                  afl-fuzz on one target (x = stack, api,
#                                  wire_tcp, ... or fuzz_x), output in
#                                  $(BUILD)/fuzz/out/<t>; prints exec/s
#   make fuzz-smoke                (part of make test) replay fuzz/corpus/<t>
#                                  and fuzz/crashes/<t> through asan/<t>, then
#                                  FUZZ_SMOKE_SECONDS of afl-fuzz per target
#                                  (skipped with a note without afl-fuzz)
#   make fuzz-seeds                regenerate the seed inputs (tools/fuzz-seeds)
#   make coverage                  line/branch coverage of lib/ from the Check
#                                  suites, the vectors and the fuzz corpus
#
# Every build here uses -DPN_FUZZ_NO_CSUM (codecs skip checksum checks so
# the fuzzer gets past them; the harness checks the sums of what the stack
# emits itself) and -DPN_DEBUG (PNI_ASSERT traps).

AFL_CC ?= afl-clang-fast
AFL_FUZZ ?= afl-fuzz
FUZZ_SMOKE_SECONDS ?= 5
SECONDS ?= 60
TARGET ?= stack

FUZZ_WIRE := eth arp ip4 icmp4 udp tcp
FUZZ_TARGETS := $(addprefix fuzz_wire_,$(FUZZ_WIRE)) fuzz_stack fuzz_api
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_DEFS := -DPN_FUZZ_NO_CSUM -DPN_DEBUG
FUZZ_WARN := $(WARN)
FUZZ_COMMON := fuzz/driver.c fuzz/harness.c
FUZZ_HDRS := $(wildcard fuzz/*.h) $(wildcard lib/*.h) include/purenet.h

# $(call fuzz_flavor,NAME,CC,FLAGS): $(FUZZ_DIR)/NAME/libpurenet.a built from
# lib/ with FLAGS, and one binary per target.
define fuzz_flavor
FUZZ_$(1)_OBJ := $$(patsubst lib/%.c,$(FUZZ_DIR)/$(1)/lib/%.o,$$(LIB_SRC))
$(FUZZ_DIR)/$(1)/lib/%.o: lib/%.c $$(wildcard lib/*.h) include/purenet.h
	@mkdir -p $$(dir $$@)
	$(2) -std=c11 -Iinclude -Ilib $(FUZZ_WARN) $(FUZZ_DEFS) $(3) -c $$< -o $$@
$(FUZZ_DIR)/$(1)/libpurenet.a: $$(FUZZ_$(1)_OBJ)
	rm -f $$@
	$(AR) rcs $$@ $$^
$(FUZZ_DIR)/$(1)/%: fuzz/%.c $(FUZZ_COMMON) $(FUZZ_HDRS) $(FUZZ_DIR)/$(1)/libpurenet.a
	@mkdir -p $$(dir $$@)
	$(2) -std=c11 -D_DEFAULT_SOURCE -Iinclude -Ilib -Ifuzz $(FUZZ_WARN) $(FUZZ_DEFS) $(3) \
	  -o $$@ $$< $(FUZZ_COMMON) $(FUZZ_DIR)/$(1)/libpurenet.a
endef

FUZZ_SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# Coverage feedback comes from lib/ and the targets' own decoding: the
# invariant walk (lib/check.c), the harness's checks and the driver are
# left uninstrumented (AFL++ partial instrumentation, fuzz/afl-denylist.txt),
# so they run at native speed and add no map noise.
AFL_DENY := AFL_LLVM_DENYLIST=$(CURDIR)/fuzz/afl-denylist.txt
$(eval $(call fuzz_flavor,afl,$(AFL_DENY) $(AFL_CC),-O2 -g))
$(eval $(call fuzz_flavor,asan,$(CC),$(FUZZ_SANFLAGS)))
$(eval $(call fuzz_flavor,plain,$(CC),-O1 -g))
$(eval $(call fuzz_flavor,cov,$(CC),-O0 -g --coverage))

FUZZ_AFL_BINS := $(addprefix $(FUZZ_DIR)/afl/,$(FUZZ_TARGETS))
FUZZ_ASAN_BINS := $(addprefix $(FUZZ_DIR)/asan/,$(FUZZ_TARGETS))
FUZZ_PLAIN_BINS := $(addprefix $(FUZZ_DIR)/plain/,$(FUZZ_TARGETS))
FUZZ_COV_BINS := $(addprefix $(FUZZ_DIR)/cov/,$(FUZZ_TARGETS))
$(FUZZ_AFL_BINS) $(FUZZ_afl_OBJ): fuzz/afl-denylist.txt

# Make must not treat the binaries as intermediates of the pattern rules.
.SECONDARY: $(FUZZ_AFL_BINS) $(FUZZ_ASAN_BINS) $(FUZZ_PLAIN_BINS) $(FUZZ_COV_BINS)

PHONY_EXTRA += fuzz fuzz-afl fuzz-replay fuzz-run fuzz-smoke fuzz-seeds coverage
TEST_EXTRA += fuzz-smoke

fuzz-afl:
	@command -v $(AFL_CC) >/dev/null 2>&1 || { \
	  echo "error: $(AFL_CC) missing: run tools/ci-deps-fuzz.sh"; exit 1; }
	$(MAKE) --no-print-directory $(FUZZ_AFL_BINS)

fuzz-replay: $(FUZZ_ASAN_BINS) $(FUZZ_PLAIN_BINS)

fuzz: fuzz-replay fuzz-afl

# One target under afl-fuzz (dictionary fuzz/dict/<t>.dict when present).
fuzz-run:
	@t=$(TARGET); t=fuzz_$${t#fuzz_}; \
	$(MAKE) --no-print-directory fuzz-afl && \
	tools/fuzz-run.sh $(FUZZ_DIR)/afl/$$t fuzz/corpus/$$t $(FUZZ_DIR)/out/$$t $(SECONDS)

fuzz-smoke: $(FUZZ_ASAN_BINS)
	@for t in $(FUZZ_TARGETS); do \
	  dirs=""; for d in fuzz/corpus/$$t fuzz/crashes/$$t; do \
	    [ -d $$d ] && [ -n "$$(ls -A $$d 2>/dev/null)" ] && dirs="$$dirs $$d"; done; \
	  [ -n "$$dirs" ] || { echo "fuzz-smoke: $$t has no corpus"; exit 1; }; \
	  $(FUZZ_DIR)/asan/$$t $$dirs || exit 1; \
	done
	@if command -v $(AFL_FUZZ) >/dev/null 2>&1 && command -v $(AFL_CC) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory fuzz-afl && \
	  for t in $(FUZZ_TARGETS); do \
	    tools/fuzz-run.sh $(FUZZ_DIR)/afl/$$t fuzz/corpus/$$t $(FUZZ_DIR)/smoke/$$t $(FUZZ_SMOKE_SECONDS) --smoke || exit 1; \
	  done; \
	else echo "fuzz-smoke: afl-fuzz not installed, afl part skipped (corpus replayed under ASan+UBSan)"; fi

# Seeds: tools/fuzz-seeds writes hand-built scenarios, the input frames of
# every vector script (the vector runner linked with --wrap=pn_inject_raw)
# and the Linux captures into fuzz/corpus/<t>/seed-*.
FUZZ_SEED_SRC := tools/fuzz-seeds.c fuzz/harness.c $(filter-out tests/pkt/cli/%,$(wildcard tests/pkt/*.c))
$(FUZZ_DIR)/fuzz-seeds: $(FUZZ_SEED_SRC) $(FUZZ_HDRS) $(wildcard tests/pkt/*.h) $(FUZZ_DIR)/plain/libpurenet.a
	$(CC) -std=c11 -D_DEFAULT_SOURCE -Iinclude -Ilib -Ifuzz -Itests/pkt -Wall -Wextra -Werror -Wshadow \
	  $(FUZZ_DEFS) -O1 -g -o $@ $(FUZZ_SEED_SRC) $(FUZZ_DIR)/plain/libpurenet.a -Wl,--wrap=pn_inject_raw
fuzz-seeds: $(FUZZ_DIR)/fuzz-seeds
	$(FUZZ_DIR)/fuzz-seeds fuzz/corpus $$(find vectors -name '*.pkt' | sort) \
	  --pcap $$(find tests/data vectors -name '*.pcap' 2>/dev/null | sort)

# ---- coverage ---------------------------------------------------------------

# Line and branch coverage of lib/: the Check suites (which include the
# vectors suite) built with --coverage at -O0, plus the fuzz replayers
# (cov flavor) over fuzz/corpus and fuzz/crashes. Report in
# $(BUILD)/coverage/report/: coverage.html, coverage.json,
# coverage-uncovered.txt; one summary line on stdout.
# Both object trees are rebuilt from scratch each time: gcovr refuses to
# merge two builds of a file whose functions moved in between.
COV_BUILD := $(BUILD)/coverage
coverage:
	@command -v gcovr >/dev/null 2>&1 || { echo "error: gcovr missing: run tools/ci-deps-fuzz.sh"; exit 1; }
	rm -rf $(COV_BUILD) $(FUZZ_DIR)/cov
	$(MAKE) --no-print-directory $(FUZZ_COV_BINS)
	$(MAKE) --no-print-directory BUILD=$(COV_BUILD) OPT=-O0 EXTRA_CFLAGS=--coverage \
	  CHECK_LIBS="$(CHECK_LIBS) --coverage" $(COV_BUILD)/check_purenet
	cd $(CURDIR) && PN_TEST_SCALE=small $(COV_BUILD)/check_purenet >$(COV_BUILD)/check.log 2>&1 || \
	  { tail -20 $(COV_BUILD)/check.log; echo "coverage: Check suites failed"; exit 1; }
	@for t in $(FUZZ_TARGETS); do \
	  for d in fuzz/corpus/$$t fuzz/crashes/$$t; do \
	    if [ -d $$d ] && [ -n "$$(ls -A $$d 2>/dev/null)" ]; then $(FUZZ_DIR)/cov/$$t $$d >/dev/null || exit 1; fi; \
	  done; \
	done
	@tools/coverage-summary.sh $(COV_BUILD)/report $(COV_BUILD) $(FUZZ_DIR)/cov
