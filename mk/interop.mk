# mk/interop.mk -- purenet on a real TUN/TAP device against Linux, and in
# memory against lwIP 2.1.3.
#
#   make pn-tun             $(BUILD)/pn-tun (tools/pn-tun.c: the TUN/TAP host)
#   make interop-lwip       $(BUILD)/interop_lwip (tests/interop_lwip/), run
#   make test-interop       (root) every tools/interop/*.sh case, each in a
#                           fresh network namespace, then interop-lwip;
#                           INTEROP_CASES="ping curl" runs a subset
#   make capture-linux-interop   (root) re-record vectors/linux-interop/
# Packages: tools/ci-interop.sh (iproute2 curl netcat-openbsd socat
# iputils-ping liblwip-dev). Not part of `make test` (needs root and
# network namespaces); .ci/run runs it through tools/ci-interop.sh.

PN_TUN := $(BUILD)/pn-tun
INTEROP_LWIP := $(BUILD)/interop_lwip
INTEROP_CFLAGS := -std=c11 -O2 -g -Iinclude -Itools $(WARN) $(SANFLAGS)
INTEROP_LWIP_CFLAGS = $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags lwip 2>/dev/null))
INTEROP_LWIP_LIBS = $(shell $(PKG_CONFIG) --libs lwip 2>/dev/null)

$(PN_TUN): tools/pn-tun.c tools/pn-tun-sha256.c tools/pn-tun-sha256.h tools/pcap.c tools/pcap.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(INTEROP_CFLAGS) -o $@ tools/pn-tun.c tools/pn-tun-sha256.c tools/pcap.c $(LIB_A)

$(INTEROP_LWIP): $(wildcard tests/interop_lwip/*.c tests/interop_lwip/*.h) tools/pn-tun-sha256.c tools/pn-tun-sha256.h $(LIB_A)
	@mkdir -p $(dir $@)
	@$(PKG_CONFIG) --exists lwip || { echo "error: liblwip-dev missing: run tools/ci-interop.sh"; exit 1; }
	$(CC) $(INTEROP_CFLAGS) -D_DEFAULT_SOURCE $(INTEROP_LWIP_CFLAGS) -o $@ \
	  $(wildcard tests/interop_lwip/*.c) tools/pn-tun-sha256.c $(LIB_A) $(INTEROP_LWIP_LIBS)

pn-tun: $(PN_TUN)

interop-lwip: $(INTEROP_LWIP)
	$(INTEROP_LWIP)

test-interop: $(PN_TUN)
	PN_TUN=$(CURDIR)/$(PN_TUN) tools/interop/run-all.sh $(INTEROP_CASES)
	$(MAKE) --no-print-directory interop-lwip

capture-linux-interop: $(PN_TUN)
	PN_TUN=$(CURDIR)/$(PN_TUN) tools/capture-linux-interop.sh

PHONY_EXTRA += pn-tun interop-lwip test-interop capture-linux-interop
