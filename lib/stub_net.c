/* TEMPORARY: stubs for the datapath modules until they land. The owner of
 * iface/neigh/route/ip4/icmp/udp deletes this file. */
#include "pn_internal.h"

void pni_iface_input(pn_stack *s, pni_buf *frame) { pni_buf_free(s, frame); }
int pni_iface_output_ip(pn_stack *s, pni_buf *pkt, const uint8_t nh[4]) { (void)nh; pni_buf_free(s, pkt); return 0; }
int pni_iface_enqueue(pn_stack *s, pni_buf *frame) { pni_buf_free(s, frame); return 0; }
int pni_hook_run(pn_stack *s, int point, const pni_buf *ip) { (void)s; (void)point; (void)ip; return 1; }
void pni_neigh_poll(pn_stack *s) { (void)s; }
uint64_t pni_neigh_deadline(const pn_stack *s) { (void)s; return PN_TIME_NEVER; }
void pni_route_init(pn_stack *s) { (void)s; }
void pni_udp_wmem_release(pn_stack *s, uint16_t owner, uint32_t bytes) { (void)s; (void)owner; (void)bytes; }
