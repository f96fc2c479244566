#!/bin/sh
# vectors/linux-interop/regen.sh -- rewrites the .pkt scripts here from the
# pcaps recorded by tools/capture-linux-interop.sh, with
# tools/interop-pcap-to-pkt.py. Frame numbers (--after N=) and write sizes
# are read off the pcaps: after re-recording, look at the draft
# (interop-pcap-to-pkt.py FILE.pcap), fix them here and check each script
# with build/pktrun -v. Run from anywhere; needs python3 only.
set -eu
cd "$(dirname "$0")"
C="${PYTHON:-/usr/bin/python3} ../../tools/interop-pcap-to-pkt.py"
ACC="3=accept(3, ..., ...) = 4;setsockopt(4, IPPROTO_TCP, TCP_NODELAY, [1], 4) = 0"
CONV="'<' lines are Linux's packets as captured (payload bytes are the runner's pattern); '>' lines are what pn-tun sent. Frame numbers index the pcap."

$C tun-http-get.pcap --listen \
 --head "Linux client (curl GET /bytes/20000) against our listener: Linux's own SYN (mss 1460, sackOK, TS, nop, wscale 10 -- Linux's option order), its GET (83 bytes, PSH), its ACKs with growing window, its FIN first; we answer 130 + 20000 bytes and close (LAST-ACK)." \
 --head "Source: vectors/linux-interop/tun-http-get.pcap, recorded by tools/capture-linux-interop.sh (Linux 6.18 over TUN against pn-tun, no impairment); converted by tools/interop-pcap-to-pkt.py (vectors/linux-interop/regen.sh)." \
 --head "$CONV" \
 --head "Profile: library default (rfc), as pn-tun; pn-tun's rcvbuf/sndbuf 256 KiB (wscale 3) and TCP_NODELAY; pn-tun's application writes become write() calls." \
 --head "Reference: RFC 9293 3.5, 3.6, 3.10.7.4; RFC 7323; RFC 2018 (sackOK)" \
 --head "purenet: rcvbuf=262144 sndbuf=262144" \
 --after "$ACC" \
 --after "4=read(4, ..., 1000) = 83;write(4, ..., 130) = 130" --after "5=write(4, ..., 20000) = 20000" \
 --after "36=read(4, ..., 1000) = 0;close(4) = 0" > tun-http-get-syn-data-fin.pkt

$C tun-sack.pcap --listen \
 --head "Linux client (curl GET /bytes/300000) over pn-tun's seeded impairment (5% loss, 2% dup, 2% reorder, seed 7): Linux's duplicate ACKs with SACK blocks (up to 2 blocks, growing as the flight arrives), reordered and duplicated ACKs, window updates (win 63 .. 377 << 10), its FIN. Our side must do SACK-based loss recovery exactly as pn-tun did: each retransmission of a hole Linux's SACK blocks point at." \
 --head "Source: vectors/linux-interop/tun-sack.pcap, recorded by tools/capture-linux-interop.sh (Linux 6.18 over TUN against pn-tun); converted by tools/interop-pcap-to-pkt.py (vectors/linux-interop/regen.sh). The pcap holds what pn-tun received after the impairment, and what it sent before it: segments lost on the way out are '>' lines Linux never saw -- hence its SACKs." \
 --head "$CONV" \
 --head "Profile: library default (rfc), as pn-tun; pn-tun's rcvbuf 256 KiB (wscale 3), TCP_NODELAY; sndbuf raised so the 300000-byte body is one write() (pn-tun wrote it as buffer space freed; the segmentation is the same)." \
 --head "Reference: RFC 2018; RFC 6675; RFC 5681 3.2; RFC 7323; RFC 9293 3.6" \
 --head "purenet: rcvbuf=262144 sndbuf=524288" \
 --after "$ACC" \
 --after "4=read(4, ..., 1000) = 84;write(4, ..., 131) = 131" --after "5=write(4, ..., 300000) = 300000" \
 --head "Ends at frame 230 (see the end): the recording showed a limited-transmit bug fixed since." \
 --to 230 > tun-sack-recovery.pkt
cat >> tun-sack-recovery.pkt <<'TAIL'
// Frame 230 is a duplicate ACK whose only SACK block (194295:195743) lies
// below the cumulative ACK: a D-SACK (RFC 2883), no new SACK information.
// RFC 3042 2: a sender using SACK MUST NOT send new segments for such an
// ACK. pn-tun sent 211671:213119 here when this was recorded (limited
// transmit applied to any of the first two duplicate ACKs); it no longer
// does. The next ACK advances the window and releases the segment.
+0.000008 < . 85:85(0) ack 202983 win 185 <nop,nop,TS val 3473159546 ecr 2592949400>    // frame 232
+0.000000 > . 211671:213119(1448) ack 85 <nop,nop,TS val 2592949400 ecr 3473159546>
TAIL

$C tun-window.pcap --listen \
 --head "Linux client (curl --limit-rate 100k GET /bytes/200000) against our listener: a slow reader. Linux's window updates shrink (win 78 -> 34 -> 1, i.e. 1024 bytes with wscale 10) while we have data queued, we hold off (no sender silly window, RFC 1122 4.2.3.4), and 0.57 s later Linux reopens the window (win 78) and we send again; then its FIN." \
 --head "Source: vectors/linux-interop/tun-window.pcap, recorded by tools/capture-linux-interop.sh (Linux 6.18 over TUN against pn-tun --sndbuf 65536); converted by tools/interop-pcap-to-pkt.py (vectors/linux-interop/regen.sh)." \
 --head "$CONV" \
 --head "Profile: library default (rfc), as pn-tun; rcvbuf 256 KiB (wscale 3), TCP_NODELAY; pn-tun's writes as its 64 KiB send buffer freed are the three write() calls at the PSH boundaries it left (93180, 136620, 200132)." \
 --head "Reference: RFC 9293 3.8.6.2.1, 3.10.7.4; RFC 1122 4.2.3.4; RFC 7323 2.3" \
 --head "purenet: rcvbuf=262144 sndbuf=262144" \
 --after "$ACC" \
 --after "4=read(4, ..., 1000) = 84;write(4, ..., 131) = 131" --after "5=write(4, ..., 93048) = 93048" \
 --after "91=write(4, ..., 43440) = 43440" --after "123=write(4, ..., 63512) = 63512" \
 --after "189=read(4, ..., 1000) = 0;close(4) = 0" |
 # Linux's reopen came 0.57 s after the shrink; our RFC 1122 4.2.3.4 SWS
 # override timeout (0.25 s here) would send the 1024 bytes first, which
 # pn-tun did not have when this was recorded: the script reopens at 0.2 s.
 sed 's|^+0.574861 < \(. 85:85(0) ack 151100 win 78 .*// frame 135\)$|+0.200000 < \1|' > tun-window-shrink-reopen.pkt
