# mk/demo.mk -- `make demo`: two instances back to back in memory (see
# tools/demo.c); prints a packet trace and the counters, writes demo.pcap.
# Needs only a C compiler (no Check).

PHONY_EXTRA += demo
DEMO_BIN := $(BUILD)/demo

$(DEMO_BIN): tools/demo.c tools/pcap.c tools/pcap.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -g -Iinclude -Itools $(WARN) $(SANFLAGS) -o $@ tools/demo.c tools/pcap.c $(LIB_A)

demo: $(DEMO_BIN)
	$(DEMO_BIN) demo.pcap
