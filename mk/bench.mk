# mk/bench.mk -- purenet beside lwIP 2.1.3 (Debian liblwip-dev).
#
#   make bench        the full run (bench/run.sh: wall-clock A B A B medians,
#                     callgrind instruction counts, footprint); the report
#                     goes to $(BUILD)/bench/report.md (bench/RESULTS.md is
#                     the published copy)
#   make bench-quick  small sizes, one rep: checks that the benchmarks build
#                     and run (part of `make test`; no thresholds); skipped
#                     with a note when lwIP or valgrind is missing
# Packages: tools/ci-deps-bench.sh (liblwip-dev, valgrind).
# Benchmarks always build with -O2 (OPT is ignored here) against
# $(BUILD)/libpurenet.a.

BENCH_DIR    := $(BUILD)/bench
BENCH_CFLAGS := -std=c11 -O2 -g -D_DEFAULT_SOURCE -Iinclude -Ibench $(WARN)
# lwIP's headers as system headers: our warning set is not theirs.
BENCH_LWIP_CFLAGS = $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags lwip 2>/dev/null))
BENCH_LWIP_LIBS   = $(shell $(PKG_CONFIG) --libs lwip 2>/dev/null)

$(BENCH_DIR)/bench_purenet: bench/bench_purenet.c bench/bench_common.h include/purenet.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/bench_purenet.c $(LIB_A)

$(BENCH_DIR)/bench_lwip: bench/bench_lwip.c bench/bench_common.h
	@mkdir -p $(dir $@)
	@$(PKG_CONFIG) --exists lwip || { echo "error: liblwip-dev missing: run tools/ci-deps-bench.sh"; exit 1; }
	$(CC) $(BENCH_CFLAGS) $(BENCH_LWIP_CFLAGS) -o $@ bench/bench_lwip.c $(BENCH_LWIP_LIBS)

bench-build: $(BENCH_DIR)/bench_purenet $(BENCH_DIR)/bench_lwip

bench: bench-build
	LIB_A=$(LIB_A) CC=$(CC) bench/run.sh --bin $(BENCH_DIR) --out $(BENCH_DIR)/report.md

bench-quick:
	@if $(PKG_CONFIG) --exists lwip 2>/dev/null && command -v valgrind >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory bench-build && \
	  LIB_A=$(LIB_A) CC=$(CC) bench/run.sh --quick --bin $(BENCH_DIR) --out $(BENCH_DIR)/report-quick.md; \
	else echo "bench-quick: liblwip-dev or valgrind missing (tools/ci-deps-bench.sh), skipped"; fi

TEST_EXTRA += bench-quick
PHONY_EXTRA += bench bench-quick bench-build
