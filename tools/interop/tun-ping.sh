#!/usr/bin/env bash
# Linux pings pn-tun over TUN: 56, 1400 and 4000-byte payloads (the last
# fragmented both ways), every reply expected; UDP echo answers too.
NI_CASE=tun-ping
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ni_setup tun
ni_start_pn srv
ni_check_ping
ni_check_udp_echo
ni_stop_pn
grep -q 'reass_ok=[1-9]' "$NI_TMP/srv.log" && grep -q 'ip4_frag_tx=[1-9]' "$NI_TMP/srv.log" &&
  ni_result frag-both-ways pass "$(grep -o 'reass_ok=[0-9]*\|ip4_frag_tx=[0-9]*' "$NI_TMP/srv.log" | tr '\n' ' ')" ||
  ni_result frag-both-ways FAIL "$(grep stats "$NI_TMP/srv.log")"
ni_finish
