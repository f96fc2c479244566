/*
 * route.c -- the routing table: longest-prefix match, next hop and source
 * address choice; which addresses are ours.
 *
 * IMPLEMENTATION NOTES
 * - s->routes holds PN_MAX_ADDRS + PN_MAX_ROUTES entries: one connected
 *   route per interface address (its network, no gateway, src = the
 *   address) and the static routes of cfg.routes and pn_route_add. Entries
 *   are stored with their host bits cleared.
 * - Lookup is a linear longest-prefix match over at most 20 entries. On
 *   equal prefixes a static route beats a connected one (so a caller can
 *   steer a connected network through a gateway), then the lower index
 *   wins: deterministic.
 * - Source choice (RFC 1122 3.3.4.3, "choose the address of the interface
 *   the datagram goes out on"): the route's src if set, else our address
 *   whose connected network holds the next hop (longest such prefix), else
 *   the first address.
 * - 255.255.255.255 never needs a route: it goes out on the link (RFC 919,
 *   RFC 1122 3.3.6), from the first address.
 * - Directed broadcasts are recognised for prefixes up to /30; a /31
 *   (RFC 3021) or /32 network has none. They are computed once at init
 *   (s->dbcast; the addresses never change after pn_stack_new).
 * - Route cache: every datagram sent does a lookup (twice for UDP: the
 *   socket layer to pick the source, IP to pick the next hop), so the
 *   result for a destination is kept in a small direct-mapped cache
 *   (s->rcache, PNI_RCACHE_N entries, slot chosen from the address bytes).
 *   An entry is valid while its gen equals s->route_gen, which
 *   pn_route_add and pn_route_del bump: any change to the table empties
 *   the whole cache at once. Only successes are cached. The result is a
 *   pure function of (dst, table, addresses), so a hit gives exactly what
 *   a walk would; an attacker choosing colliding destinations only causes
 *   misses, which cost one walk, as before the cache.
 */
#include "pn_internal.h"

#define NROUTES (PN_MAX_ADDRS + PN_MAX_ROUTES)

static uint32_t
mask_of(unsigned plen)
{
    return plen == 0 ? 0 : 0xffffffffu << (32 - plen);
}

static int
in_net(const uint8_t a[4], const uint8_t net[4], unsigned plen)
{
    return ((pni_be32(a) ^ pni_be32(net)) & mask_of(plen)) == 0;
}

static void
set_static(pni_route_ent *e, const pn_route *r)
{
    memset(e, 0, sizeof *e);
    pni_put_be32(e->dest, pni_be32(r->dest.b) & mask_of(r->prefix_len));
    memcpy(e->gw, r->gateway.b, 4);
    memcpy(e->src, r->src.b, 4);
    e->prefix_len = r->prefix_len;
    e->in_use = 1;
}

/* A table change: every cached lookup is stale. */
static void
table_changed(pn_stack *s)
{
    if (++s->route_gen == 0) {
        /* wrapped: entries of generation 0 must not look valid */
        memset(s->rcache, 0, sizeof s->rcache);
        s->route_gen = 1;
    }
}

/* see pn_internal.h */
void
pni_route_init(pn_stack *s)
{
    memset(s->routes, 0, sizeof s->routes);
    memset(s->rcache, 0, sizeof s->rcache);
    s->route_gen = 1;
    for (unsigned i = 0; i < PN_MAX_ADDRS; i++) {
        s->dbcast[i] = 0;
        if (i < s->cfg.n_addrs && s->cfg.addrs[i].prefix_len <= 30) {
            uint32_t m = mask_of(s->cfg.addrs[i].prefix_len);
            s->dbcast[i] = (pni_be32(s->cfg.addrs[i].addr.b) & m) | ~m;
        }
    }
    unsigned k = 0;
    for (unsigned i = 0; i < s->cfg.n_addrs; i++) {
        pni_route_ent *e = &s->routes[k++];
        const pn_ifaddr *a = &s->cfg.addrs[i];
        pni_put_be32(e->dest, pni_be32(a->addr.b) & mask_of(a->prefix_len));
        memcpy(e->src, a->addr.b, 4);
        e->prefix_len = a->prefix_len;
        e->in_use = 1;
        e->connected = 1;
    }
    for (unsigned i = 0; i < s->cfg.n_routes; i++)
        set_static(&s->routes[k++], &s->cfg.routes[i]);
}

/* Our address on the connected network holding a (longest prefix), or
 * NULL. */
static const uint8_t *
addr_for(const pn_stack *s, const uint8_t a[4])
{
    const uint8_t *best = NULL;
    int best_len = -1;
    for (unsigned i = 0; i < s->cfg.n_addrs; i++) {
        const pn_ifaddr *ia = &s->cfg.addrs[i];
        if (in_net(a, ia->addr.b, ia->prefix_len) && (int)ia->prefix_len > best_len) {
            best = ia->addr.b;
            best_len = ia->prefix_len;
        }
    }
    return best;
}

static void
first_addr(const pn_stack *s, uint8_t src[4])
{
    if (s->cfg.n_addrs > 0)
        memcpy(src, s->cfg.addrs[0].addr.b, 4);
    else
        memset(src, 0, 4);
}

static int
lookup(const pn_stack *s, const uint8_t dst[4], uint8_t src[4], uint8_t nh[4])
{
    if (pni_ip4_is_bcast(dst)) {
        first_addr(s, src);
        memcpy(nh, dst, 4);
        return 0;
    }
    const pni_route_ent *best = NULL;
    for (unsigned i = 0; i < NROUTES; i++) {
        const pni_route_ent *e = &s->routes[i];
        if (!e->in_use || !in_net(dst, e->dest, e->prefix_len))
            continue;
        if (best == NULL || e->prefix_len > best->prefix_len ||
            (e->prefix_len == best->prefix_len && best->connected && !e->connected))
            best = e;
    }
    if (best == NULL)
        return PN_ENETUNREACH;
    if (!pni_ip_is_zero(best->gw))
        memcpy(nh, best->gw, 4);
    else
        memcpy(nh, dst, 4);
    if (!pni_ip_is_zero(best->src)) {
        memcpy(src, best->src, 4);
    } else {
        const uint8_t *a = addr_for(s, nh);
        if (a != NULL)
            memcpy(src, a, 4);
        else
            first_addr(s, src);
    }
    return 0;
}

/* see pn_internal.h */
int
pni_route_lookup(pn_stack *s, const uint8_t dst[4], uint8_t src[4], uint8_t nh[4])
{
    pni_rcache *c = &s->rcache[(dst[2] ^ dst[3]) & (PNI_RCACHE_N - 1)];
    if (c->gen == s->route_gen && pni_ip_eq(c->dst, dst)) {
        memcpy(src, c->src, 4);
        memcpy(nh, c->nh, 4);
        return 0;
    }
    int rc = lookup(s, dst, src, nh);
    if (rc == 0) {
        memcpy(c->dst, dst, 4);
        memcpy(c->src, src, 4);
        memcpy(c->nh, nh, 4);
        c->gen = s->route_gen;
    }
    return rc;
}

/* see purenet.h */
int
pn_route_add(pn_stack *s, const pn_route *r)
{
    if (s == NULL || r == NULL || r->prefix_len > 32 || pni_ip4_is_mcast(r->gateway.b) ||
        pni_ip4_is_bcast(r->gateway.b))
        return PN_EINVAL;
    if (!pni_ip_is_zero(r->gateway.b) && s->cfg.medium == PN_MEDIUM_ETHERNET &&
        addr_for(s, r->gateway.b) == NULL)
        return PN_EINVAL; /* a gateway must be on a connected network */
    if (!pni_ip_is_zero(r->src.b) && !pni_ip4_is_local(s, r->src.b))
        return PN_EINVAL;
    pni_route_ent tmp;
    set_static(&tmp, r);
    pni_route_ent *slot = NULL;
    for (unsigned i = 0; i < NROUTES; i++) {
        pni_route_ent *e = &s->routes[i];
        if (e->in_use && !e->connected && e->prefix_len == tmp.prefix_len &&
            pni_ip_eq(e->dest, tmp.dest)) {
            slot = e; /* replace */
            break;
        }
        if (!e->in_use && slot == NULL)
            slot = e;
    }
    if (slot == NULL)
        return PN_ENOBUFS;
    *slot = tmp;
    table_changed(s);
    return 0;
}

/* see purenet.h */
int
pn_route_del(pn_stack *s, pn_ip4 dest, uint8_t prefix_len)
{
    if (s == NULL || prefix_len > 32)
        return PN_EINVAL;
    uint8_t d[4];
    pni_put_be32(d, pni_be32(dest.b) & mask_of(prefix_len));
    for (unsigned i = 0; i < NROUTES; i++) {
        pni_route_ent *e = &s->routes[i];
        if (e->in_use && !e->connected && e->prefix_len == prefix_len && pni_ip_eq(e->dest, d)) {
            memset(e, 0, sizeof *e);
            table_changed(s);
            return 0;
        }
    }
    return PN_ENOENT;
}

/* see pn_internal.h */
int
pni_ip4_src_is_unicast(const pn_stack *s, const uint8_t a[4])
{
    return !pni_ip_is_zero(a) && !pni_ip4_is_our_bcast(s, a) && !pni_ip4_is_mcast(a) &&
           a[0] != 127 && (a[0] & 0xf0) != 0xf0;
}
