#!/usr/bin/env python3
"""interop-pcap-to-pkt.py -- draft a vectors .pkt script from one TCP
connection in a vectors/linux-interop/*.pcap (recorded by
tools/capture-linux-interop.sh: Linux 10.0.0.1 against pn-tun 10.0.0.2).

Linux's packets become '<' lines exactly as captured (flags, relative
sequence numbers, ack relative to purenet's ISN, raw window field, its own
option list with TS values and SACK blocks, payload length; the runner
fills payload bytes with its pattern). purenet's packets become '>' lines
(window not compared). Times are the capture's, relative to the previous
line. Packet parsing and option formatting are tools/linux-capture.py's.

The result is a draft: the system calls (socket/bind/listen/accept, the
application's read/write/close) and any '>' line that depends on pn-tun's
application rather than the stack are added or edited by hand, and the
script is checked with build/pktrun. See vectors/linux-interop/README.md.

Usage: interop-pcap-to-pkt.py FILE.pcap [--port N] [--from I] [--to J]
                              [--no-out] [--win-out]
  --port N   purenet's port of the connection (default: the first SYN's dport)
  --from/--to  frame indices (0-based, as tcpdump -r lists them; --to inclusive)
  --no-out   leave purenet's packets out (write them by hand)
  --win-out  compare purenet's window too
  --listen   start with socket/SO_REUSEADDR/bind/listen (Linux is the client)
  --after N=CALL[;CALL...]  system-call lines after frame N (repeatable)
  --head TEXT  a header line (repeatable; '// ' is prepended)

With --listen and --after the output is a complete script: the commands
that made each vectors/linux-interop/*.pkt are in vectors/linux-interop/README.md.
"""
import argparse
import importlib.util
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("linux_capture", os.path.join(HERE, "linux-capture.py"))
lc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lc)


def frames(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic, = struct.unpack("<I", hdr[:4])
        end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        link, = struct.unpack(end + "I", hdr[20:24])
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            sec, frac, incl, _ = struct.unpack(end + "IIII", rh)
            b = f.read(incl)
            t = sec + frac / (1e9 if nano else 1e6)
            if link == 1:  # Ethernet
                if len(b) < 14 or b[12:14] != b"\x08\x00":
                    yield t, None
                    continue
                b = b[14:]
            yield t, b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--port", type=int)
    ap.add_argument("--from", dest="first", type=int, default=0)
    ap.add_argument("--to", dest="last", type=int, default=1 << 30)
    ap.add_argument("--no-out", action="store_true")
    ap.add_argument("--win-out", action="store_true")
    ap.add_argument("--listen", action="store_true")
    ap.add_argument("--after", action="append", default=[])
    ap.add_argument("--head", action="append", default=[])
    a = ap.parse_args()
    after = {}
    for x in a.after:
        n, calls = x.split("=", 1)
        after.setdefault(int(n), []).extend("+0 " + c.strip() for c in calls.split(";"))

    port = a.port
    linux_isn = our_isn = None
    lport = None
    last = None
    out = []
    for i, (t, pkt) in enumerate(frames(a.pcap)):
        if pkt is None or len(pkt) < 20 or pkt[0] >> 4 != 4:
            continue
        p = lc.parse_tcp(pkt)
        if p is None:
            continue
        if port is None and p["flags"] & 0x12 == 0x02:
            port = p["dport"]
        inbound = p["dport"] == port and (lport is None or p["sport"] == lport)
        outbound = p["sport"] == port and (lport is None or p["dport"] == lport)
        if not (inbound or outbound):
            continue
        if inbound and p["flags"] & 0x12 == 0x02:
            linux_isn, lport = p["seq"], p["sport"]
        if outbound and p["flags"] & 0x12 == 0x12:
            our_isn = p["seq"]
        if linux_isn is None or i < a.first or i > a.last:
            continue
        if outbound and (a.no_out or our_isn is None):
            continue
        mine, peer = (linux_isn, our_isn) if inbound else (our_isn, linux_isn)
        rs = (p["seq"] - mine) & 0xFFFFFFFF
        n = len(p["data"])
        s = "%s %s %d:%d(%d)" % ("<" if inbound else ">", lc.flagstr(p["flags"]), rs, rs + n, n)
        if p["flags"] & 0x10:
            s += " ack %d" % ((p["ack"] - peer) & 0xFFFFFFFF)
        if inbound or a.win_out:
            s += " win %d" % p["win"]
        if p["opts"]:
            s += " <%s>" % lc.optstr(p["opts"], peer)
        rel = 0.0 if last is None else t - last
        last = t
        out.append("+%.6f %s    // frame %d" % (rel, s, i))
        out += after.get(i, [])
    head = ["// " + h for h in a.head]
    if head or a.listen:
        head.append("--tolerance_usecs=50000")
        head.append("")
    if a.listen:
        head += ["0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
                 "+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0",
                 "+0 bind(3, ..., ...) = 0",
                 "+0 listen(3, 1) = 0"]
    print("\n".join(head + out))


if __name__ == "__main__":
    main()
