/* fuzz-empty.c -- an AFL++ persistent target that does nothing with its
 * input. tools/fuzz-rate.sh runs it beside the real targets: its exec/s is
 * what afl-fuzz's own round trip (fork server, pipe and signal wake-ups on
 * this machine) allows, the ceiling no target can pass. Built with
 * afl-clang-fast only; not part of the library. */
#include <stddef.h>

__AFL_FUZZ_INIT();

static volatile unsigned sink;

int
main(void)
{
    __AFL_INIT();
    unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
    while (__AFL_LOOP(100000)) {
        size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
        if (len > 0 && buf[0] == 'a')
            sink++;
    }
    return 0;
}
