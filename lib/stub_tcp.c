/* TEMPORARY: stubs for TCP until lib/tcp*.c land; the TCP owner deletes this file. */
#include "pn_internal.h"

struct pni_tcp *pni_tcp_carve(pn_stack *s, pni_carver *c) { (void)s; (void)c; return NULL; }
void pni_tcp_poll(pn_stack *s) { (void)s; }
uint64_t pni_tcp_deadline(const pn_stack *s) { (void)s; return PN_TIME_NEVER; }
