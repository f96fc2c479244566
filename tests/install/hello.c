/* Built against an installed purenet through pkg-config by `make test-install`:
 * creates an instance in a static arena and checks it answers. */
#include <purenet.h>
#include <stdio.h>
#include <string.h>

static _Alignas(16) unsigned char arena[1 << 20];

int
main(void)
{
    pn_config cfg;
    int err = 0;
    pn_config_default(&cfg);
    cfg.medium = PN_MEDIUM_IP;
    cfg.n_addrs = 1;
    cfg.addrs[0].addr = PN_IP4(10, 0, 0, 1);
    cfg.addrs[0].prefix_len = 24;
    size_t need = pn_arena_size(&cfg);
    if (need == 0 || need > sizeof arena) {
        printf("hello: arena size %zu unusable\n", need);
        return 1;
    }
    pn_stack *s = pn_stack_new(arena, sizeof arena, &cfg, &err);
    if (s == NULL) {
        printf("hello: pn_stack_new: %s\n", pn_strerror(err));
        return 1;
    }
    if (pn_next_deadline(s) != PN_TIME_NEVER || pn_drain_peek(s) != 0) {
        printf("hello: a fresh stack is not idle\n");
        return 1;
    }
    printf("hello: purenet instance in %zu arena bytes\n", need);
    return 0;
}
