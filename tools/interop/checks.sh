# tools/interop/checks.sh -- the checks the cases share (sourced after
# lib.sh). Each check prints RESULT lines with the measured rate.
# NI_IMPAIR (e.g. "--loss 0.02 --reorder 0.01 --dup 0.01 --seed 1") is
# passed to pn-tun by the cases that start it.

# ni_wait_log FILE PATTERN SECONDS: wait until FILE has a line matching.
ni_wait_log() {
  local i
  for i in $(seq $(( $3 * 10 ))); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

ni_check_ping() { # extra ping args (e.g. -I dev)
  local s out
  for s in 56 1400 4000; do
    out=$(ni_in ping -c 5 -i 0.2 -W 2 -s "$s" "$@" "$NI_PN" 2>&1 || true)
    if echo "$out" | grep -q ' 5 received'; then
      ni_result "ping-$s" pass "$(echo "$out" | tail -1)"
    else
      ni_result "ping-$s" FAIL "$(echo "$out" | tail -2 | tr '\n' ' ')"
    fi
  done
}

# One GET of N bytes, body hashed on the fly; the rate is curl's own
# (transfer only, no process start-up).
ni_check_get() { # name bytes
  local name=$1 n=$2 want got
  want=$(ni_pattern_sha "$n")
  got=$(ni_in curl -sS --fail --max-time 300 -w '%{stderr}%{speed_download} %{time_total}\n' \
          "http://$NI_PN/bytes/$n" 2>"$NI_TMP/get.err" | sha256sum | cut -d' ' -f1) || true
  if [ "$got" = "$want" ]; then
    ni_result "$name" pass "$(awk '{printf "%.1f MB/s (%.3f s)", $1 / 1e6, $2}' "$NI_TMP/get.err")"
  else
    ni_result "$name" FAIL "sha256 $got, want $want; $(head -2 "$NI_TMP/get.err")"
  fi
}

ni_check_keepalive() { # 100 requests on one connection
  local n=10000 reqs=100 urls=() i want got conns t0 t1
  for i in $(seq $reqs); do urls+=("http://$NI_PN/bytes/$n"); done
  want=$(for i in $(seq $reqs); do "$PN_TUN" --gen $n; done | sha256sum | cut -d' ' -f1)
  t0=$(ni_now)
  got=$(ni_in curl -sS --fail --max-time 120 -w '%{stderr}%{num_connects}\n' "${urls[@]}" \
          2>"$NI_TMP/ka.err" | sha256sum | cut -d' ' -f1) || true
  t1=$(ni_now)
  conns=$(awk '{s += $1} END {print s + 0}' "$NI_TMP/ka.err")
  if [ "$got" = "$want" ] && [ "$conns" = 1 ]; then
    ni_result keepalive-100 pass "100 requests, 1 connection, $(ni_rate $((n * reqs)) "$t0" "$t1")"
  else
    ni_result keepalive-100 FAIL "connections $conns, sha256 $got want $want; $(head -3 "$NI_TMP/ka.err")"
  fi
}

ni_check_parallel() { # 50 connections at once, 1 MiB each
  local n=1048576 par=50 want bad=0 conns f t0 t1
  want=$(ni_pattern_sha $n)
  mkdir -p "$NI_TMP/par"
  t0=$(ni_now)
  ni_in curl -sS --fail --max-time 300 --parallel --parallel-immediate --parallel-max $par \
      -w '%{num_connects}\n' -o "$NI_TMP/par/b#1" "http://$NI_PN/bytes/$n?[1-$par]" \
      >"$NI_TMP/par.n" 2>"$NI_TMP/par.err" || true
  t1=$(ni_now)
  conns=$(awk '{s += $1} END {print s + 0}' "$NI_TMP/par.n")
  for f in $(seq $par); do
    [ "$(sha256sum < "$NI_TMP/par/b$f" 2>/dev/null | cut -d' ' -f1)" = "$want" ] || bad=$((bad + 1))
  done
  rm -rf "$NI_TMP/par"
  if [ $bad = 0 ] && [ "$conns" = $par ]; then
    ni_result parallel-50 pass "50 connections x 1 MiB, $(ni_rate $((n * par)) "$t0" "$t1") total"
  else
    ni_result parallel-50 FAIL "$bad bad bodies, $conns connections; $(grep -i 'curl:' "$NI_TMP/par.err" | head -3)"
  fi
}

ni_check_curl() {
  ni_check_get get-1MiB 1048576
  ni_check_get get-100MiB $((100 * 1048576))
  ni_check_keepalive
  ni_check_parallel
}

# ni_check_discard FILE LOG: nc uploads FILE to discard (9); pn-tun's log
# line for the connection carries the byte count and SHA-256 it saw.
ni_check_discard() {
  local file=$1 log=$2 n want t0 t1 line
  n=$(stat -c %s "$file")
  want=$(sha256sum < "$file" | cut -d' ' -f1)
  t0=$(ni_now)
  ni_in timeout 300 nc -N "$NI_PN" 9 < "$file" || true
  t1=$(ni_now)
  if ni_wait_log "$log" "close discard .* rx=$n tx=0 rx_sha256=$want" 30; then
    ni_result "discard-$((n >> 20))MiB" pass "$(ni_rate "$n" "$t0" "$t1")"
  else
    line=$(grep 'discard' "$log" | tail -1)
    ni_result "discard-$((n >> 20))MiB" FAIL "want rx=$n sha256 $want; pn-tun: $line"
  fi
}

ni_check_echo() { # FILE: round trip through echo (7)
  local file=$1 n want got t0 t1
  n=$(stat -c %s "$file")
  want=$(sha256sum < "$file" | cut -d' ' -f1)
  t0=$(ni_now)
  got=$(ni_in timeout 300 nc -N "$NI_PN" 7 < "$file" | sha256sum | cut -d' ' -f1) || true
  t1=$(ni_now)
  if [ "$got" = "$want" ]; then
    ni_result "echo-$((n >> 20))MiB" pass "$(ni_rate "$n" "$t0" "$t1") each way"
  else
    ni_result "echo-$((n >> 20))MiB" FAIL "sha256 $got, want $want"
  fi
}

# ni_check_client FILE: a Linux socat server sends FILE and stores what
# comes in (socat -t waits for both directions: nc -l quits at the first
# EOF); pn-tun's client sends as many bytes of the pattern and reads to
# the server's FIN.
ni_check_client() {
  local file=$1 n want_in want_out got_out t0 t1 log=$NI_TMP/client.log port=5000 pid i
  n=$(stat -c %s "$file")
  want_in=$(sha256sum < "$file" | cut -d' ' -f1)
  want_out=$(ni_pattern_sha "$n")
  ip netns exec "$NI_NS" socat -t 600 -T 600 "TCP-LISTEN:$port,bind=$NI_LINUX,reuseaddr" \
      SYSTEM:"cat '$file' & cat > '$NI_TMP/client.recv'; wait" &
  pid=$!
  NI_PIDS+=($pid)
  for i in $(seq 50); do
    ni_in ss -ltn | grep -q ":$port " && break
    sleep 0.05
  done
  t0=$(ni_now)
  ip netns exec "$NI_NS" timeout 600 "$PN_TUN" --dev "$NI_DEV" --addr "$NI_PN/24" \
      $NI_TAP_ARG ${NI_IMPAIR:-} --connect "$NI_LINUX:$port" --connect-delay 300 \
      --send "$n" --recv "$n" >"$NI_TMP/client.out" 2>"$log" || true
  t1=$(ni_now)
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  got_out=$(sha256sum < "$NI_TMP/client.recv" | cut -d' ' -f1)
  rm -f "$NI_TMP/client.recv"
  if grep -q "client .* rx=$n .*rx_sha256=$want_in" "$log" && grep -q 'client done ok' "$log" &&
     [ "$got_out" = "$want_out" ]; then
    ni_result "client-$((n >> 20))MiB-each-way" pass "$(sed -n 's/.*close client.*secs=\([0-9.]*\).*/\1/p' "$log" |
      awk -v b=$((2 * n)) '{printf "%.1f MB/s (%.2f s) both directions together", b / $1 / 1e6, $1}')"
  else
    ni_result "client-$((n >> 20))MiB-each-way" FAIL "Linux got sha256 $got_out (want $want_out); pn-tun: $(grep -E 'client|error' "$log" | tail -2 | tr '\n' ' ')"
  fi
}

ni_mkfile() { # name MiB: random bytes
  head -c $(( $2 * 1048576 )) /dev/urandom > "$NI_TMP/$1"
  echo "$NI_TMP/$1"
}

ni_check_udp_echo() {
  local got
  got=$(echo "purenet udp echo" | ni_in timeout 5 socat -t 1 - "UDP:$NI_PN:7" 2>&1 || true)
  if [ "$got" = "purenet udp echo" ]; then
    ni_result udp-echo pass "one datagram echoed"
  else
    ni_result udp-echo FAIL "got '$got'"
  fi
}

# The counters worth a glance in a case's output (retransmissions etc.).
ni_pn_stats_line() {
  echo "$NI_CASE pn-tun: $(grep -o 'tcp_retrans=[0-9]*\|tcp_rto=[0-9]*\|tcp_fast_retrans=[0-9]*\|tcp_ooo_queued=[0-9]*\|tcp_dup_drop=[0-9]*\|impairment.*' "$1" | tr '\n' ' ')" >&2
}
