#!/usr/bin/env bash
# Linux nc uploads 64 MiB to pn-tun's discard service (byte count and
# SHA-256 checked on pn-tun's side) and round-trips 16 MiB through echo.
NI_CASE=${NI_CASE:-tun-nc}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ni_setup tun
ni_start_pn srv $NI_IMPAIR
ni_check_discard "$(ni_mkfile up64 64)" "$NI_TMP/srv.log"
ni_check_echo "$(ni_mkfile echo16 16)"
ni_stop_pn
ni_pn_stats_line "$NI_TMP/srv.log"
ni_finish
