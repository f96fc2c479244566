#!/usr/bin/env bash
# TAP mode (Ethernet, ARP): pn-tun's client first connects out (pn-tun
# ARPs for Linux), then Linux's neighbour cache is flushed and a pn-tun
# server answers pings and curl (Linux ARPs for pn-tun).
NI_CASE=tap
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks.sh"
ni_setup tap
ni_check_client "$(ni_mkfile in4 4)"
if grep -q 'arp_req_tx=[1-9]' "$NI_TMP/client.log" && grep -q 'arp_reply_rx=[1-9]' "$NI_TMP/client.log"; then
  ni_result arp-pn-asks pass "$(grep -o 'arp_[a-z_]*=[0-9]*' "$NI_TMP/client.log" | tr '\n' ' ')"
else
  ni_result arp-pn-asks FAIL "$(grep stats "$NI_TMP/client.log")"
fi
ni_in ip neigh flush dev "$NI_DEV"
ni_start_pn srv
ni_check_ping
ni_check_curl
ni_stop_pn
if grep -q 'arp_req_rx=[1-9]' "$NI_TMP/srv.log" && grep -q 'arp_reply_tx=[1-9]' "$NI_TMP/srv.log"; then
  ni_result arp-linux-asks pass "$(grep -o 'arp_[a-z_]*=[0-9]*' "$NI_TMP/srv.log" | tr '\n' ' ')"
else
  ni_result arp-linux-asks FAIL "$(grep stats "$NI_TMP/srv.log")"
fi
ni_finish
