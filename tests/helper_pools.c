/* helper_pools.c -- the teardown leak check (needs the library). */
#include "pn_check.h"

void
pn_test_pools_empty(const pn_stack *s)
{
    const pn_stats *st = pn_stats_get(s);
    for (int i = 0; i < PN_POOL_COUNT; i++)
        ck_assert_msg(st->pool[i].used == 0, "pool %s still has %u in use", pn_pool_name(i),
                      (unsigned)st->pool[i].used);
}

