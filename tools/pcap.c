/*
 * pcap.c -- see pcap.h. The format (from the libpcap "pcap-savefile"
 * manual page): global header { magic 0xa1b2c3d4, version 2.4, thiszone 0,
 * sigfigs 0, snaplen, linktype }, then for each packet { ts_sec, ts_usec,
 * incl_len, orig_len } and incl_len bytes.
 */
#define _POSIX_C_SOURCE 200809L
#include "pcap.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* native order: the magic number says which */
}

static void
put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

void
pn_pcap_global_header(uint8_t out[PN_PCAP_GLOBAL_LEN], uint32_t linktype)
{
    put32(out, 0xa1b2c3d4u);
    put16(out + 4, 2);
    put16(out + 6, 4);
    put32(out + 8, 0);
    put32(out + 12, 0);
    put32(out + 16, PN_PCAP_SNAPLEN);
    put32(out + 20, linktype);
}

void
pn_pcap_record_header(uint8_t out[PN_PCAP_RECORD_LEN], uint64_t ts_us, uint32_t caplen,
                      uint32_t origlen)
{
    put32(out, (uint32_t)(ts_us / 1000000u));
    put32(out + 4, (uint32_t)(ts_us % 1000000u));
    put32(out + 8, caplen);
    put32(out + 12, origlen);
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int
pn_pcap_open(pn_pcap *p, const char *path, uint32_t linktype, unsigned dirs)
{
    p->fd = -1;
    p->linktype = linktype;
    p->dirs = dirs;
    p->records = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    if (st.st_size == 0) {
        uint8_t g[PN_PCAP_GLOBAL_LEN];
        pn_pcap_global_header(g, linktype);
        if (write_all(fd, g, sizeof g) != 0) {
            close(fd);
            return -1;
        }
    }
    p->fd = fd;
    return 0;
}

int
pn_pcap_write(pn_pcap *p, uint64_t ts_us, const void *data, size_t len)
{
    static uint8_t rec[PN_PCAP_RECORD_LEN + PN_PCAP_SNAPLEN];
    if (p->fd < 0)
        return -1;
    size_t cap = len < PN_PCAP_SNAPLEN ? len : PN_PCAP_SNAPLEN;
    pn_pcap_record_header(rec, ts_us, (uint32_t)cap, (uint32_t)len);
    memcpy(rec + PN_PCAP_RECORD_LEN, data, cap);
    /* One write() per record: with O_APPEND, records of processes taking
     * turns never interleave. */
    ssize_t w = write(p->fd, rec, PN_PCAP_RECORD_LEN + cap);
    if (w != (ssize_t)(PN_PCAP_RECORD_LEN + cap))
        return -1;
    p->records++;
    return 0;
}

void
pn_pcap_tap(void *user, int dir, uint64_t now, const pn_pktview *frame)
{
    static uint8_t buf[PN_PCAP_SNAPLEN];
    pn_pcap *p = user;
    if (p == NULL || (p->dirs & (1u << dir)) == 0)
        return;
    size_t n = frame->tot_len < sizeof buf ? frame->tot_len : sizeof buf;
    pn_pktview_copy(frame, 0, buf, n);
    pn_pcap_write(p, now, buf, n);
}

void
pn_pcap_close(pn_pcap *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
}
