# Packet test vectors (vectors/**/*.pkt) and the packetdrill adapter.
#
#   make check-run CK_RUN_SUITE=vectors   the vectors suite only
#   make pktrun && build/pktrun -v F.pkt   one script with a trace
#   make conformance PACKETDRILL=/path/to/packetdrill
#                                          every script through real
#                                          packetdrill and the adapter .so
#
# The runner (tests/pkt/*.c) links into the Check binary; the adapter
# (tests/packetdrill/) is a shared object with libpurenet inside, and its
# driver loads it with dlopen and plays a scripted connection through the
# interface table. make test runs the driver plain and under ASan+UBSan.

VEC_SRC := $(sort $(wildcard tests/pkt/*.c))
VEC_OBJ := $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(VEC_SRC))
TEST_OBJ += $(VEC_OBJ)
$(VEC_OBJ) $(BUILD)/tests/check_vectors.o: $(wildcard tests/pkt/*.h)

PKTRUN := $(BUILD)/pktrun
PD_SO := $(BUILD)/purenet_packetdrill.so
PD_DRIVER := $(BUILD)/pd_driver
PD_CFLAGS := $(CFLAGS_BASE) -D_GNU_SOURCE $(WARN) -Wno-missing-prototypes -Itests/packetdrill \
             $(SANFLAGS) $(EXTRA_CFLAGS)

PHONY_EXTRA += pktrun vectors-run pd-adapter pd-driver-run test-pd-adapter conformance
# In the sanitizer lane of make test: it builds in $(BUILD)/asan too.
TEST_EXTRA_SAN += test-pd-adapter

pktrun: $(PKTRUN)
$(PKTRUN): tests/pkt/cli/pktrun.c $(VEC_OBJ) $(LIB_A)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(VEC_OBJ) $(LIB_A)

# Every script, with a PASS/FAIL/XFAIL line each and a count.
vectors-run: $(PKTRUN)
	$(PKTRUN) $$(find vectors -name '*.pkt' | sort)

pd-adapter: $(PD_SO)
$(PD_SO): tests/packetdrill/pd_adapter.c tests/pkt/parse.c tests/packetdrill/pd_interface.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(PD_CFLAGS) -fPIC -shared -o $@ tests/packetdrill/pd_adapter.c tests/pkt/parse.c $(LIB_A) -lpthread

$(PD_DRIVER): tests/packetdrill/pd_driver.c tests/packetdrill/pd_interface.h
	@mkdir -p $(dir $@)
	$(CC) $(PD_CFLAGS) -o $@ $< -ldl -lpthread

pd-driver-run: $(PD_SO) $(PD_DRIVER)
	$(PD_DRIVER) $(CURDIR)/$(PD_SO)

test-pd-adapter:
	$(MAKE) --no-print-directory pd-driver-run
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SAN=1 pd-driver-run

# make conformance PACKETDRILL=/path/to/packetdrill
conformance: $(PD_SO)
	@if [ -z "$(PACKETDRILL)" ]; then \
	  echo "conformance: skipped (no PACKETDRILL=/path/to/packetdrill given; see vectors/README.md)"; \
	else tests/packetdrill/conformance.sh "$(PACKETDRILL)" "$(CURDIR)/$(PD_SO)"; fi
