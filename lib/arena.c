/*
 * arena.c -- bump carving of the caller's arena and fixed-size pools.
 *
 * IMPLEMENTATION NOTES
 * - pni_carve is run twice by the instance builder: once with base NULL to
 *   measure (pn_arena_size), once to place (pn_stack_new). Both passes make
 *   the same calls in the same order, so the size is exact.
 * - A pool is an array of count objects of obj_size bytes (a multiple of
 *   PNI_ALIGN) and an in-use byte per object. Free objects are linked
 *   through their first word. The in-use bytes catch a double free or a
 *   foreign pointer before it can corrupt the free list.
 * - pni_pool_at and pni_pool_index are static inline in pn_internal.h:
 *   they are on every packet's path (handle lookups, allocation).
 */
#include "pn_internal.h"

static size_t
align_up(size_t v)
{
    return (v + (PNI_ALIGN - 1)) & ~(size_t)(PNI_ALIGN - 1);
}

void *
pni_carve(pni_carver *c, size_t size)
{
    size_t at = align_up(c->off);
    c->off = at + align_up(size);
    if (c->base == NULL)
        return NULL;
    return c->base + at;
}

void
pni_pool_carve(pni_pool *p, pni_carver *c, uint32_t size, uint32_t count, pn_pool_stats *st)
{
    uint32_t osz = (uint32_t)align_up(size < sizeof(void *) ? sizeof(void *) : size);
    uint8_t *base = pni_carve(c, (size_t)osz * count);
    uint8_t *inuse = pni_carve(c, count);
    if (c->base == NULL)
        return;
    p->base = base;
    p->inuse = inuse;
    p->obj_size = osz;
    p->count = count;
    p->st = st;
    /* The inverse of the odd part of osz modulo 2^32, by Newton's
     * iteration (x = x * (2 - d * x) doubles the correct low bits; an odd
     * d is its own inverse to three bits): lets the invariant walk map a
     * pointer to an index with a multiply. */
    p->div_tz = 0;
    uint32_t d = osz;
    while ((d & 1u) == 0) {
        d >>= 1;
        p->div_tz++;
    }
    uint32_t inv = d;
    for (int i = 0; i < 4; i++)
        inv *= 2u - d * inv;
    p->div_inv = inv;
    memset(st, 0, sizeof *st);
    st->capacity = count;
    memset(inuse, 0, count);
    /* Link the free list in index order so allocation order is the same
     * on every run (determinism). */
    p->free_head = NULL;
    for (uint32_t i = count; i-- > 0;) {
        void *obj = base + (size_t)i * osz;
        memcpy(obj, &p->free_head, sizeof(void *));
        p->free_head = obj;
    }
}

int
pni_pool_free(pni_pool *p, void *obj)
{
    const uint8_t *o = obj;
    if (obj == NULL || p->base == NULL || o < p->base ||
        o >= p->base + (size_t)p->obj_size * p->count)
        return -1;
    size_t rel = (size_t)(o - p->base);
    if (rel % p->obj_size != 0)
        return -1;
    uint32_t i = (uint32_t)(rel / p->obj_size);
    if (p->inuse[i] == 0)
        return -1; /* double free */
    p->inuse[i] = 0;
    memcpy(obj, &p->free_head, sizeof(void *));
    p->free_head = obj;
    p->st->used--;
    return 0;
}
