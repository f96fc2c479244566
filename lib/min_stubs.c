/*
 * min_stubs.c -- what stands in for a feature left out at compile time
 * (see pn_features.h). Empty in the full build.
 *
 * IMPLEMENTATION NOTES
 * - The build drops the files of a left-out feature (mk/cross.mk); this
 *   file then supplies every entry point other modules call into them, so
 *   no caller needs an #if. The set below is the cross-module surface
 *   declared in pn_internal.h; a new pni_<feature>_* called from outside
 *   the feature's files needs a stub here too (the minimal build's symbol
 *   check fails until it has one).
 * - Public functions of a left-out feature return PN_EOPNOTSUPP. Packets
 *   for a left-out transport get ICMP protocol unreachable (RFC 1122
 *   3.2.2.1: a host SHOULD send it for a protocol it does not implement)
 *   and are counted ip4_bad_proto, so the drop is visible.
 * - Stubs own their packet arguments as the real functions do: consumed.
 */
#include "pn_features.h"
#include "pn_internal.h"

/* ISO C wants at least one declaration in a translation unit. */
typedef int pni_min_stubs_unused;

#if !PN_HAVE_TCP || !PN_HAVE_UDP
/* A segment or datagram for a transport we do not have (pkt data = IP
 * header onwards). */
static void
proto_unreach(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip)
{
    PNI_STAT(s, ip4_bad_proto);
    pni_icmp_send_error(s, pkt, ip, PNI_ICMP_DEST_UNREACH, 2 /* protocol unreachable */, 0);
    pni_buf_free(s, pkt);
}
#endif

/* ---------------------------------------------------------------- TCP */
#if !PN_HAVE_TCP

struct pni_tcp *
pni_tcp_carve(pn_stack *s, pni_carver *c)
{
    (void)s;
    (void)c;
    return NULL;
}

void
pni_tcp_input(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip)
{
    proto_unreach(s, pkt, ip);
}

void
pni_tcp_input_flat(pn_stack *s, const uint8_t *p, size_t len, const pni_ip4_repr *ip)
{
    /* never called: pni_ip4_rx_inplace refuses every frame without TCP */
    (void)s;
    (void)p;
    (void)len;
    (void)ip;
}

void
pni_tcp_icmp_error(pn_stack *s, const pni_icmp_repr *icmp)
{
    (void)s;
    (void)icmp;
}

void
pni_tcp_link_failure(pn_stack *s, const pni_buf *pkt)
{
    (void)s;
    (void)pkt;
}

void
pni_tcp_poll(pn_stack *s)
{
    (void)s;
}

uint64_t
pni_tcp_deadline(const pn_stack *s)
{
    (void)s;
    return PN_TIME_NEVER;
}

/* see purenet.h: every TCP call is PN_EOPNOTSUPP in a build without TCP. */
int
pn_tcp_open(pn_stack *s)
{
    (void)s;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_bind(pn_stack *s, int sock, const pn_sockaddr *local)
{
    (void)s;
    (void)sock;
    (void)local;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_listen(pn_stack *s, int sock, int backlog)
{
    (void)s;
    (void)sock;
    (void)backlog;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_accept(pn_stack *s, int sock, pn_sockaddr *peer)
{
    (void)s;
    (void)sock;
    (void)peer;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_connect(pn_stack *s, int sock, const pn_sockaddr *to, uint64_t now)
{
    (void)s;
    (void)sock;
    (void)to;
    (void)now;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_send(pn_stack *s, int sock, const void *data, size_t len, uint64_t now)
{
    (void)s;
    (void)sock;
    (void)data;
    (void)len;
    (void)now;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_recv(pn_stack *s, int sock, void *buf, size_t cap, uint64_t now)
{
    (void)s;
    (void)sock;
    (void)buf;
    (void)cap;
    (void)now;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_shutdown(pn_stack *s, int sock, uint64_t now)
{
    (void)s;
    (void)sock;
    (void)now;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_close(pn_stack *s, int sock, uint64_t now)
{
    (void)s;
    (void)sock;
    (void)now;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_abort(pn_stack *s, int sock, uint64_t now)
{
    (void)s;
    (void)sock;
    (void)now;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_state(const pn_stack *s, int sock)
{
    (void)s;
    (void)sock;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_setopt(pn_stack *s, int sock, int opt, int value)
{
    (void)s;
    (void)sock;
    (void)opt;
    (void)value;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_getopt(const pn_stack *s, int sock, int opt, int *value)
{
    (void)s;
    (void)sock;
    (void)opt;
    (void)value;
    return PN_EOPNOTSUPP;
}

int
pn_tcp_sockname(const pn_stack *s, int sock, pn_sockaddr *local, pn_sockaddr *peer)
{
    (void)s;
    (void)sock;
    (void)local;
    (void)peer;
    return PN_EOPNOTSUPP;
}

int
pn_sock_status(const pn_stack *s, int sock, pn_sock_status_t *st)
{
    (void)s;
    (void)sock;
    (void)st;
    return PN_EOPNOTSUPP;
}

#endif /* !PN_HAVE_TCP */

/* ---------------------------------------------------------------- UDP */
#if !PN_HAVE_UDP

void
pni_udp_input(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip)
{
    proto_unreach(s, pkt, ip);
}

int
pni_udp_rx_inplace(pn_stack *s, const uint8_t *f, size_t flen, size_t l3)
{
    /* never called: pn_inject_raw asks it only with UDP compiled in */
    (void)s;
    (void)f;
    (void)flen;
    (void)l3;
    return 1;
}

/* pni_udp_wmem_release is inline in pn_internal.h: without UDP no buffer
 * is ever charged to a socket, so its call to this never happens. */
void
pni_udp_closed_free(pn_stack *s, pni_udp_sock *u)
{
    (void)s;
    (void)u;
}

/* see purenet.h: every UDP call is PN_EOPNOTSUPP in a build without UDP. */
int
pn_udp_open(pn_stack *s)
{
    (void)s;
    return PN_EOPNOTSUPP;
}

int
pn_udp_bind(pn_stack *s, int sock, const pn_sockaddr *local)
{
    (void)s;
    (void)sock;
    (void)local;
    return PN_EOPNOTSUPP;
}

int
pn_udp_sendto(pn_stack *s, int sock, const void *data, size_t len, const pn_sockaddr *to,
              uint64_t now)
{
    (void)s;
    (void)sock;
    (void)data;
    (void)len;
    (void)to;
    (void)now;
    return PN_EOPNOTSUPP;
}

int
pn_udp_recvfrom(pn_stack *s, int sock, void *buf, size_t cap, pn_sockaddr *from)
{
    (void)s;
    (void)sock;
    (void)buf;
    (void)cap;
    (void)from;
    return PN_EOPNOTSUPP;
}

int
pn_udp_close(pn_stack *s, int sock)
{
    (void)s;
    (void)sock;
    return PN_EOPNOTSUPP;
}

#endif /* !PN_HAVE_UDP */

/* ---------------------------------------------------- fragmentation */
#if !PN_HAVE_FRAG

/* Without fragmentation a packet above the MTU cannot leave: the same
 * outcome as DF set (RFC 791 3.2), counted ip4_df_drop. */
int
pni_frag_output(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip, uint16_t mtu,
                const uint8_t nh[4])
{
    (void)ip;
    (void)mtu;
    (void)nh;
    PNI_STAT(s, ip4_df_drop);
    pni_buf_free(s, pkt);
    return PN_EMSGSIZE;
}

/* No reassembly slots exist: every fragment is dropped as reass_no_slot. */
pni_buf *
pni_reass_input(pn_stack *s, pni_buf *frag, const pni_ip4_repr *ip)
{
    (void)ip;
    PNI_STAT(s, reass_no_slot);
    pni_buf_free(s, frag);
    return NULL;
}

void
pni_reass_poll(pn_stack *s)
{
    (void)s;
}

#endif /* !PN_HAVE_FRAG */
