/* TEMPORARY: stubs for TCP until lib/tcp*.c land; the TCP owner deletes this file. */
#include "pn_internal.h"

struct pni_tcp *pni_tcp_carve(pn_stack *s, pni_carver *c) { (void)s; (void)c; return NULL; }
void pni_tcp_poll(pn_stack *s) { (void)s; }
uint64_t pni_tcp_deadline(const pn_stack *s) { (void)s; return PN_TIME_NEVER; }
void pni_tcp_input(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip) { (void)ip; PNI_STAT(s, tcp_no_socket); pni_buf_free(s, pkt); }
void pni_tcp_icmp_error(pn_stack *s, const pni_icmp_repr *icmp) { (void)s; (void)icmp; }
