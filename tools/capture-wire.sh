#!/usr/bin/env bash
# capture-wire.sh -- capture the real packets under tests/data/wire/ that the
# wire codec suites (tests/check_wire_*.c) decode.
#
# Builds three network namespaces joined by veth pairs ON THIS MACHINE ONLY
# and sends traffic between them; nothing leaves the host:
#
#   pnw-a  pnw-va 10.99.0.1/24  <-veth->  pnw-vb 10.99.0.2/24  pnw-b
#   pnw-c  pnw-vc (no IP: a raw
#          packet socket speaks)  <-veth->  pnw-vd 10.99.1.2/24  pnw-b
#
# Checksum, segmentation and VLAN offloads are switched off with ethtool so
# the captured bytes are final. Each scenario is captured on pnw-b's side
# with tcpdump into <name>.pcap and dumped to <name>.hex (one frame per
# line after a comment naming it). Needs root, iproute2, ethtool, tcpdump,
# iputils-ping, socat, python3:
#   apt-get install -y iproute2 ethtool tcpdump iputils-ping socat
#
# Two scenarios need help because this kernel lacks netem and 8021q:
#  - sack: a python raw socket in pnw-c plays the TCP client, skips 100
#    bytes of sequence space, and Linux (pnw-b) answers with a SACK block;
#  - vlan: python sends an 802.1Q-tagged ICMP echo request (VID 10, PCP 5)
#    that it builds itself; pnw-b drops it but the capture keeps it.
# Everything else (ARP, ICMP echo, record route, port unreachable, time
# exceeded, fragmentation needed, UDP, TCP handshake and data) is Linux's
# own output.
#
# Usage: tools/capture-wire.sh [outdir]   (default tests/data/wire)
set -euo pipefail

OUT=${1:-tests/data/wire}
A=pnw-a; B=pnw-b; C=pnw-c
MAC_A=02:00:00:00:00:0a; MAC_B=02:00:00:00:00:0b
MAC_C=02:00:00:00:00:0c; MAC_D=02:00:00:00:00:0d
PIDS=()

cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  ip netns del $A 2>/dev/null || true
  ip netns del $B 2>/dev/null || true
  ip netns del $C 2>/dev/null || true
}
trap cleanup EXIT
cleanup
mkdir -p "$OUT"

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

ip netns add $A; ip netns add $B; ip netns add $C
ip link add pnw-va netns $A address $MAC_A type veth peer name pnw-vb netns $B address $MAC_B
ip link add pnw-vc netns $C address $MAC_C type veth peer name pnw-vd netns $B address $MAC_D
for ns in $A $B $C; do
  nsx $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  nsx $ns ip link set lo up
done
for pair in "$A pnw-va" "$B pnw-vb" "$B pnw-vd" "$C pnw-vc"; do
  set -- $pair
  nsx $1 sysctl -qw net.ipv6.conf.$2.disable_ipv6=1
  nsx $1 ethtool -K $2 tx off rx off tso off gso off gro off txvlan off rxvlan off 2>/dev/null ||
    nsx $1 ethtool -K $2 tx off rx off tso off gso off gro off
  nsx $1 ip link set $2 up
done
nsx $A ip addr add 10.99.0.1/24 dev pnw-va
nsx $B ip addr add 10.99.0.2/24 dev pnw-vb
nsx $B ip addr add 10.99.1.2/24 dev pnw-vd
sleep 1

# cap <name> <iface-in-B> <command...>: capture while the command runs.
cap() {
  local name=$1 ifc=$2; shift 2
  # ip netns exec execs tcpdump, so $! is tcpdump itself (not a subshell).
  ip netns exec $B tcpdump -Z root -q -n -U -s 0 -i "$ifc" -w "$OUT/$name.pcap" 'not ip6' 2>/dev/null &
  local tp=$!
  sleep 1
  "$@" || true
  sleep 1
  kill -INT $tp; wait $tp 2>/dev/null || true
  python3 - "$OUT/$name.pcap" "$OUT/$name.hex" "$name" "$(uname -r)" <<'PY'
import struct, sys
src, dst, name, kver = sys.argv[1:5]
data = open(src, 'rb').read()
magic = struct.unpack('<I', data[:4])[0]
e = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
off, n, lines = 24, 0, []
while off + 16 <= len(data):
    _, _, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    n += 1
    lines.append('# frame %d, %d bytes' % (n, incl))
    lines.append(frame.hex())
with open(dst, 'w') as f:
    f.write('# %s: Ethernet frames captured by tools/capture-wire.sh\n' % name)
    f.write('# (Linux %s, veth between network namespaces, offloads off)\n' % kver)
    f.write('\n'.join(lines) + '\n')
PY
  echo "$name: $(grep -c '^# frame' "$OUT/$name.hex") frames"
}

# ARP request/reply and ICMP echo request/reply (payload pattern "purenet").
cap ping pnw-vb nsx $A ping -n -c 1 -W 2 -p 707572656e6574 10.99.0.2

# IPv4 with options: ping -R (record route, RFC 791 section 3.1).
cap ping_rr pnw-vb nsx $A ping -n -R -c 1 -W 2 10.99.0.2

# A UDP datagram to a listener, and one to a closed port (ICMP port
# unreachable quoting the UDP header).
udp_scenario() {
  ip netns exec $B socat -u UDP-RECV:7777 - >/dev/null & PIDS+=($!)
  sleep 0.5
  printf 'purenet udp' | nsx $A socat -u - UDP-SENDTO:10.99.0.2:7777,sourceport=40000
  sleep 0.3
  printf 'nobody home' | nsx $A socat -u - UDP-SENDTO:10.99.0.2:9999,sourceport=40001
  sleep 0.5
}
cap udp pnw-vb udp_scenario

# TCP: Linux's SYN, SYN-ACK, data with timestamps, FIN exchange.
tcp_scenario() {
  ip netns exec $B socat -u TCP-LISTEN:8080,reuseaddr - >/dev/null & PIDS+=($!)
  sleep 0.5
  printf 'hello purenet' | nsx $A socat -u - TCP:10.99.0.2:8080,sourceport=40002
  sleep 0.5
}
cap tcp pnw-vb tcp_scenario

# TCP SYN without timestamps (Linux then sends NOP NOP SACKOK NOP WS).
tcp_nots_scenario() {
  nsx $A sysctl -qw net.ipv4.tcp_timestamps=0
  ip netns exec $B socat -u TCP-LISTEN:8081,reuseaddr - >/dev/null & PIDS+=($!)
  sleep 0.5
  printf 'x' | nsx $A socat -u - TCP:10.99.0.2:8081,sourceport=40003
  sleep 0.5
  nsx $A sysctl -qw net.ipv4.tcp_timestamps=1
}
cap tcp_nots pnw-vb tcp_nots_scenario

# ICMP errors from pnw-b acting as a router towards 10.99.1.0/24 (MTU 1000
# there): time exceeded for a TTL-1 ping, fragmentation needed (RFC 1191
# next-hop MTU) for a 1200-byte DF ping. 10.99.1.5 does not exist; pnw-b
# answers before it would ever look for it.
router_scenario() {
  nsx $B sysctl -qw net.ipv4.ip_forward=1
  nsx $B ip link set pnw-vd mtu 1000
  nsx $A ip route add 10.99.1.0/24 via 10.99.0.2
  nsx $A ping -n -c 1 -W 1 -t 1 10.99.1.5
  nsx $A ping -n -c 1 -W 1 -M do -s 1200 10.99.1.5
  nsx $A ip route del 10.99.1.0/24
  nsx $B ip link set pnw-vd mtu 1500
  nsx $B sysctl -qw net.ipv4.ip_forward=0
}
cap router pnw-vb router_scenario

# SACK and 802.1Q: a raw packet socket in pnw-c (see the header).
raw_scenario() {
  ip netns exec $B socat -u TCP-LISTEN:8082,reuseaddr - >/dev/null & PIDS+=($!)
  sleep 0.5
  nsx $C python3 - "$MAC_C" "$MAC_D" <<'PY'
import socket, struct, sys, time
mac_c = bytes.fromhex(sys.argv[1].replace(':', ''))
mac_d = bytes.fromhex(sys.argv[2].replace(':', ''))
me, peer = socket.inet_aton('10.99.1.3'), socket.inet_aton('10.99.1.2')
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(('pnw-vc', 0))
s.settimeout(0.2)

def csum(b):
    if len(b) % 2:
        b += b'\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return (~t) & 0xffff

def ip4(proto, payload, ident):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0, me, peer)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload

def tcp(seq, ack, flags, opts, data=b''):
    hl = 20 + len(opts)
    t = struct.pack('!HHIIBBHHH', 40004, 8082, seq, ack, (hl // 4) << 4, flags, 64240, 0, 0) + opts + data
    ph = me + peer + struct.pack('!BBH', 0, 6, len(t))
    t = t[:16] + struct.pack('!H', csum(ph + t)) + t[18:]
    return mac_d + mac_c + b'\x08\x00' + ip4(6, t, 0x1234 + seq % 7)

def ts(val, ecr):
    return b'\x01\x01\x08\x0a' + struct.pack('!II', val, ecr)

def pump(want, secs=2.0):
    end = time.time() + secs
    while time.time() < end:
        try:
            f = s.recv(2048)
        except socket.timeout:
            continue
        if f[12:14] == b'\x08\x06' and f[20:22] == b'\x00\x01' and f[38:42] == me:
            rep = f[6:12] + mac_c + b'\x08\x06' + f[14:20] + b'\x00\x02' + mac_c + me + f[22:28] + f[28:32]
            s.send(rep)
            continue
        if f[12:14] == b'\x08\x00' and f[23] == 6 and f[26:30] == peer:
            ihl = (f[14] & 15) * 4
            t = f[14 + ihl:]
            if want(t):
                return t
    raise SystemExit('raw: no answer')

isn = 1000000
s.send(tcp(isn, 0, 0x02, b'\x02\x04\x05\xb4\x04\x02' + b'\x08\x0a' + struct.pack('!II', 5000, 0) + b'\x01\x03\x03\x07'))
sa = pump(lambda t: t[13] & 0x12 == 0x12)
rseq = struct.unpack('!I', sa[4:8])[0]
rts = struct.unpack('!I', sa[28:32])[0] if len(sa) >= 40 else 0
s.send(tcp(isn + 1, rseq + 1, 0x10, ts(5001, rts)))
time.sleep(0.2)
# Segment 2 first (bytes 100..199): Linux must SACK it (RFC 2018 section 4).
s.send(tcp(isn + 101, rseq + 1, 0x18, ts(5002, rts), b'B' * 100))
pump(lambda t: len(t) > 20 and b'\x05\x0a' in t[20:(t[12] >> 4) * 4])
s.send(tcp(isn + 1, rseq + 1, 0x18, ts(5003, rts), b'A' * 100))
pump(lambda t: struct.unpack('!I', t[8:12])[0] == isn + 201)
s.send(tcp(isn + 201, rseq + 1, 0x04, b''))
time.sleep(0.2)

# An 802.1Q-tagged ICMP echo request, VID 10, PCP 5.
icmp = struct.pack('!BBHHH', 8, 0, 0, 0x7071, 1) + b'purenet vlan'
icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
s.send(mac_d + mac_c + b'\x81\x00' + struct.pack('!H', (5 << 13) | 10) + b'\x08\x00' + ip4(1, icmp, 0x4242))
time.sleep(0.2)
PY
  sleep 0.3
}
cap raw pnw-vd raw_scenario

echo "captures written to $OUT"
