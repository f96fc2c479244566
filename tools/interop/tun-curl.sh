#!/usr/bin/env bash
# Linux curl against pn-tun's HTTP server over TUN: 1 MiB and 100 MiB
# bodies checked by SHA-256, 100 requests on one keep-alive connection, 50
# parallel connections. NI_IMPAIR adds pn-tun's lossy link.
NI_CASE=${NI_CASE:-tun-curl}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ni_setup tun
ni_start_pn srv $NI_IMPAIR
ni_check_curl
ni_stop_pn
ni_pn_stats_line "$NI_TMP/srv.log"
ni_finish
