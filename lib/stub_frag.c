/* TEMPORARY: stubs for reassembly until lib/reass.c lands; its owner deletes this file. */
#include "pn_internal.h"

void pni_reass_poll(pn_stack *s) { (void)s; }
uint64_t pni_reass_deadline(const pn_stack *s) { (void)s; return PN_TIME_NEVER; }
