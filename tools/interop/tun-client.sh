#!/usr/bin/env bash
# The reverse: pn-tun's client connects to a Linux server (socat) and
# moves 64 MiB each way on one connection, both hashed.
NI_CASE=${NI_CASE:-tun-client}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ni_setup tun
ni_check_client "$(ni_mkfile in64 64)"
ni_pn_stats_line "$NI_TMP/client.log"
ni_finish
