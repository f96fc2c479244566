# mk/tshark.mk -- every frame the test stacks emit (tests/helper_pcap.c
# appends them to $PN_TEST_PCAP) is dissected by tshark with checksum
# validation on; any malformed packet or expert info of severity warning
# or above (a bad IP/UDP/TCP checksum is an "error") fails the target.
#
#   make test-tshark     part of `make test`; skipped when tshark is absent
#
# The filter was checked on a deliberately corrupted capture (one UDP
# payload byte flipped, one IP TTL flipped): both frames are reported, and
# without the -o *.check_checksum:TRUE preferences neither would be, so
# those options are essential. TCP sequence analysis is off: the records
# of many unrelated tests share one file and would look like retransmits.

PHONY_EXTRA += test-tshark
TEST_EXTRA += test-tshark

TSHARK ?= tshark
TSHARK_PCAP := $(BUILD)/emitted.pcap
TSHARK_OPTS := -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
               -o tcp.check_checksum:TRUE -o tcp.analyze_sequence_numbers:FALSE \
               -o tcp.desegment_tcp_streams:FALSE --disable-heuristic thrift_tcp
# tshark marks every RST as an expert "warning" (a notable event, not a
# defect), so warnings are ignored on RST frames only; errors never are, and
# each checksum status is tested explicitly (0 = bad). Stream reassembly is
# off because many unrelated tests reuse the same ports in one file, and
# random bulk payload must not be taken for Thrift.
TSHARK_FILTER := _ws.malformed || _ws.expert.severity >= error \
  || (_ws.expert.severity >= warning && !(tcp.flags.reset == 1)) \
  || ip.checksum.status == 0 || tcp.checksum.status == 0 \
  || udp.checksum.status == 0 || icmp.checksum.status == 0

test-tshark: $(TEST_BIN)
	@if ! command -v $(TSHARK) >/dev/null 2>&1; then \
	  echo "test-tshark: tshark not installed, skipped"; exit 0; fi; \
	rm -f $(TSHARK_PCAP); \
	PN_TEST_PCAP=$(CURDIR)/$(TSHARK_PCAP) CK_VERBOSITY=silent $(TEST_BIN) >/dev/null 2>&1 || \
	  echo "test-tshark: note: some suites failed (test-plain reports them)"; \
	test -s $(TSHARK_PCAP) || { echo "test-tshark: no frames captured"; exit 1; }; \
	n=$$($(TSHARK) -r $(TSHARK_PCAP) $(TSHARK_OPTS) 2>/dev/null | wc -l); \
	bad=$$($(TSHARK) -r $(TSHARK_PCAP) $(TSHARK_OPTS) -Y '$(TSHARK_FILTER)' 2>/dev/null); \
	if [ -n "$$bad" ]; then \
	  echo "test-tshark: malformed frames or bad checksums in $(TSHARK_PCAP):"; \
	  echo "$$bad" | head -40; exit 1; fi; \
	echo "test-tshark: $$n frames, none malformed, all checksums good"
