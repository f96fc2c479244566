#!/usr/bin/env bash
# Runs the interop cases (all, or those named: run-all.sh tun-ping tap),
# each in its own namespace, and prints a summary table of the RESULT
# lines. Exit status: the number of failed cases (0 = all passed).
set -uo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
: "${PN_TUN:?PN_TUN must point at the pn-tun binary}"
[ "$(id -u)" = 0 ] || { echo "test-interop: needs root (network namespaces, /dev/net/tun)"; exit 1; }
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(tun-ping tun-curl tun-nc tun-client lossy-curl lossy-nc lossy-client tap)
export NI_RESULTS
NI_RESULTS=$(mktemp /tmp/pn-interop-results.XXXXXX)
failed=()
for c in "${cases[@]}"; do
  echo "== interop case $c"
  t0=$(date +%s)
  if bash "$dir/$c.sh"; then st=ok; else st=FAILED; failed+=("$c"); fi
  echo "== interop case $c: $st ($(( $(date +%s) - t0 )) s)"
done
echo
echo "interop summary:"
column -t -s $'\t' < <(awk '{ d = ""; for (i = 5; i <= NF; i++) d = d " " $i; printf "%s\t%s\t%s\t%s\n", $2, $3, $4, d }' "$NI_RESULTS") 2>/dev/null ||
  cat "$NI_RESULTS"
rm -f "$NI_RESULTS"
if [ ${#failed[@]} -gt 0 ]; then
  echo "test-interop: FAILED: ${failed[*]}"
  exit ${#failed[@]}
fi
echo "test-interop: all cases passed"
