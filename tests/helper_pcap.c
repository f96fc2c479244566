/*
 * helper_pcap.c -- every frame a test stack emits goes to the pcap file
 * named by $PN_TEST_PCAP (mk/tshark.mk then has tshark check them all).
 * Check forks each test: the writer (tools/pcap.c) opens with O_APPEND,
 * writes the global header only into an empty file, and each record with
 * one write(), so the tests' records never interleave.
 */
#include <stdlib.h>
#include <string.h>

#include "../tools/pcap.c"
#include "helper_link.h"

void
pn_test_pcap_frame(int medium, uint64_t now, const uint8_t *frame, size_t len)
{
    static uint8_t buf[14 + 65535];
    const char *path = getenv("PN_TEST_PCAP");
    if (path == NULL || *path == '\0')
        return;
    pn_pcap p;
    if (pn_pcap_open(&p, path, PN_PCAP_LINKTYPE_ETHERNET, 1u << PN_TAP_OUT) != 0)
        return;
    if (medium == PN_MEDIUM_IP) {
        static const uint8_t eh[14] = {0x02, 0, 0, 0, 0, 0xfe, 0x02, 0, 0, 0, 0, 0xfd, 0x08, 0x00};
        if (len > sizeof buf - 14)
            len = sizeof buf - 14;
        memcpy(buf, eh, 14);
        memcpy(buf + 14, frame, len);
        pn_pcap_write(&p, now, buf, len + 14);
    } else {
        pn_pcap_write(&p, now, frame, len);
    }
    pn_pcap_close(&p);
}
