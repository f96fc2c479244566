/*
 * driver.c -- main() of every fuzz target.
 *
 * Under afl-clang-fast (__AFL_FUZZ_TESTCASE_LEN defined): AFL++ persistent
 * mode with shared-memory input (docs: "persistent mode" of afl-clang-fast /
 * LLVM mode). Each input is copied to the end of a page that is followed by
 * an inaccessible guard page, so a one-byte over-read of the input crashes
 * at once even without ASan (picohttpparser's trick).
 *
 * Otherwise: a replayer. Arguments are files or directories (walked, names
 * starting with '.' and README.txt skipped). Each input runs twice, once
 * over an arena filled with 0x00 and once with 0xff; the two runs must
 * emit byte-identical frames (determinism, and no read of stale arena
 * bytes). -v prints a trace. Exit status 0 when every input passed.
 * PN_FUZZ_BENCH=N in the environment: also run every input N more times
 * as the AFL loop does (no arena fill) and print the mean time per
 * execution, an upper bound for afl-fuzz's exec/s on this machine.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

int pn_fuzz_arena_fill = 0;
int pn_fuzz_verbose = 0;
uint64_t pn_fuzz_digest = 0;
static const char *current_input = "(afl input)";

#define FZ_MAX_INPUT (256u * 1024u)

_Noreturn void
pn_fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "purenet-fuzz: INVARIANT: %s [%s] (input %s)\n", what, detail, current_input);
    abort();
}

#ifdef __AFL_FUZZ_TESTCASE_LEN

__AFL_FUZZ_INIT();

int
main(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t span = ((FZ_MAX_INPUT + (size_t)pg - 1) / (size_t)pg) * (size_t)pg;
    uint8_t *region = mmap(NULL, span + (size_t)pg, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED || mprotect(region + span, (size_t)pg, PROT_NONE) != 0) {
        perror("mmap");
        return 1;
    }
    uint8_t *end = region + span;
    pn_fuzz_arena_fill = -1; /* speed: the replayer checks fills do not matter */
    __AFL_INIT();
    unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
    while (__AFL_LOOP(100000)) {
        size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
        if (len > FZ_MAX_INPUT)
            len = FZ_MAX_INPUT;
        uint8_t *p = end - len;
        memcpy(p, buf, len);
        pn_fuzz_one(p, len);
    }
    return 0;
}

#else /* replay */

static int n_ok;
static long bench_n;
static double bench_s;
static long bench_execs;

static void
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    uint8_t *tmp = malloc(FZ_MAX_INPUT);
    if (tmp == NULL)
        abort();
    size_t len = fread(tmp, 1, FZ_MAX_INPUT, f);
    fclose(f);
    /* exactly len bytes on the heap: ASan sees any over-read */
    uint8_t *p = malloc(len > 0 ? len : 1);
    if (p == NULL)
        abort();
    memcpy(p, tmp, len);
    free(tmp);
    current_input = path;
    if (pn_fuzz_verbose)
        fprintf(stderr, "== %s (%zu bytes)\n", path, len);
    pn_fuzz_arena_fill = 0x00;
    pn_fuzz_digest = 0;
    pn_fuzz_one(p, len);
    uint64_t d0 = pn_fuzz_digest;
    pn_fuzz_arena_fill = 0xff;
    pn_fuzz_digest = 0;
    int v = pn_fuzz_verbose;
    pn_fuzz_verbose = 0;
    pn_fuzz_one(p, len);
    pn_fuzz_verbose = v;
    if (pn_fuzz_digest != d0)
        pn_fuzz_fail("output depends on stale arena bytes (nondeterminism)", "digest differs");
    if (bench_n > 0) {
        struct timespec a, b;
        pn_fuzz_arena_fill = -1;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long i = 0; i < bench_n; i++)
            pn_fuzz_one(p, len);
        clock_gettime(CLOCK_MONOTONIC, &b);
        bench_s += (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        bench_execs += bench_n;
    }
    free(p);
    n_ok++;
}

static int
cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_path(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        perror(path);
        exit(2);
    }
    if (!S_ISDIR(sb.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        perror(path);
        exit(2);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "README.txt") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof *names);
            if (names == NULL)
                abort();
        }
        size_t l = strlen(path) + strlen(de->d_name) + 2;
        names[n] = malloc(l);
        if (names[n] == NULL)
            abort();
        snprintf(names[n], l, "%s/%s", path, de->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmpstr);
    for (size_t i = 0; i < n; i++) {
        run_path(names[i]);
        free(names[i]);
    }
    free(names);
}

int
main(int argc, char **argv)
{
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        pn_fuzz_verbose = 1;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [-v] FILE|DIR...\n", argv[0]);
        return 2;
    }
    const char *bn = getenv("PN_FUZZ_BENCH");
    bench_n = bn != NULL ? atol(bn) : 0;
    for (int i = first; i < argc; i++)
        run_path(argv[i]);
    printf("%s: %d inputs replayed, all invariants held\n", argv[0], n_ok);
    if (bench_execs > 0)
        printf("%s: %.1f us per execution over %ld executions (%.0f exec/s on one core)\n", argv[0],
               bench_s * 1e6 / (double)bench_execs, bench_execs, (double)bench_execs / bench_s);
    return 0;
}

#endif
