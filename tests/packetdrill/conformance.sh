#!/bin/sh
# conformance.sh PACKETDRILL ADAPTER_SO -- run every vectors/**/*.pkt through
# real packetdrill in shared-object mode with the purenet adapter.
#
# Scripts marked "// purenet-only" use syntax packetdrill lacks (ICMP echo,
# explicit ports, fragments) and are skipped. A script's "// purenet:" knobs
# (profile=NAME, rto_min=..., delack=off, ...) go to the adapter through
# --so_flags.
# Exit status: 0 when every script run passed.
set -u
pd=$1
so=$2
[ -x "$pd" ] || { echo "conformance: $pd is not an executable"; exit 2; }
pass=0 fail=0 skip=0
failed=""
for f in $(find vectors -name '*.pkt' | sort); do
    if grep -q '^// purenet-only' "$f"; then skip=$((skip + 1)); continue; fi
    flags=local=192.168.0.1
    for k in $(sed -n 's|^// purenet: *||p' "$f"); do flags="$flags,$k"; done
    if "$pd" --so_filename="$so" --so_flags="$flags" \
         --local_ip=192.168.0.1 --remote_ip=192.0.2.1 \
         --tolerance_usecs=4000 "$f" >/tmp/purenet-conformance.log 2>&1; then
        pass=$((pass + 1))
    elif grep -q '^// xfail:' "$f"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        failed="$failed $f"
        sed 's/^/    /' /tmp/purenet-conformance.log | head -20
    fi
done
echo "conformance: $pass passed, $fail failed, $skip skipped (purenet-only)"
for f in $failed; do echo "  FAILED $f"; done
[ "$fail" -eq 0 ]
