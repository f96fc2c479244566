/*
 * pcap.h -- a tiny libpcap-format writer for host tools and tests (outside
 * lib/: it does I/O). Classic pcap: a 24-byte global header, then per
 * packet a 16-byte record header and the bytes, all in the writer's
 * native byte order (magic 0xa1b2c3d4 tells readers which), microsecond
 * timestamps.
 *
 * Usable straight from a purenet tap:  cfg.tap = pn_pcap_tap;
 * cfg.tap_user = &writer;  -- it writes the frames of the chosen
 * directions (OUT alone is the whole wire when two stacks are wired back
 * to back: each frame leaves exactly one of them).
 */
#ifndef PN_TOOLS_PCAP_H
#define PN_TOOLS_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "purenet.h"

#define PN_PCAP_LINKTYPE_ETHERNET 1
#define PN_PCAP_LINKTYPE_RAW 101 /* bare IPv4/IPv6 */
#define PN_PCAP_SNAPLEN 65535u
#define PN_PCAP_GLOBAL_LEN 24
#define PN_PCAP_RECORD_LEN 16

/* Encoders (no I/O). */
void pn_pcap_global_header(uint8_t out[PN_PCAP_GLOBAL_LEN], uint32_t linktype);
void pn_pcap_record_header(uint8_t out[PN_PCAP_RECORD_LEN], uint64_t ts_us, uint32_t caplen,
                           uint32_t origlen);

typedef struct pn_pcap {
    int fd;            /* -1 when closed */
    uint32_t linktype;
    unsigned dirs;     /* bit (1u << PN_TAP_IN/OUT) written by pn_pcap_tap */
    uint64_t records;
} pn_pcap;

/* Open path for appending (O_APPEND, created if absent). The global header
 * is written only when the file is new or empty, so several processes (a
 * forking test runner) can append to one file in turn. Each record is
 * written with a single write() call. Returns 0 or -1 (errno set). */
int pn_pcap_open(pn_pcap *p, const char *path, uint32_t linktype, unsigned dirs);
/* Append one record; data is cut at PN_PCAP_SNAPLEN. 0 or -1. */
int pn_pcap_write(pn_pcap *p, uint64_t ts_us, const void *data, size_t len);
/* A pn_tap_fn: user is a pn_pcap *. */
void pn_pcap_tap(void *user, int dir, uint64_t now, const pn_pktview *frame);
void pn_pcap_close(pn_pcap *p);

#endif
