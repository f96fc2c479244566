/* pktrun -- run packet vectors from the command line.
 *   pktrun [-v] FILE.pkt...     (-v traces every event and packet)
 * Exit status 0 when every script passes (or fails as marked xfail). */
#include <stdio.h>
#include <string.h>

#include "../pkt.h"

int
main(int argc, char **argv)
{
    int verbose = 0, bad = 0, counts[5] = {0};
    static const char *names[] = {"PASS", "FAIL", "XFAIL", "XPASS", "ERROR"};
    static pkt_result r;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
            continue;
        }
        int st = pkt_run_file(argv[i], &r, verbose);
        counts[st]++;
        printf("%-5s %s\n", names[st], argv[i]);
        if (st == PKT_FAIL || st == PKT_ERROR || (st == PKT_XFAIL && verbose))
            printf("%s\n", r.msg);
        if (st == PKT_FAIL || st == PKT_ERROR)
            bad = 1;
    }
    printf("pass %d, fail %d, xfail %d, xpass %d, error %d\n", counts[0], counts[1], counts[2], counts[3], counts[4]);
    return bad;
}
