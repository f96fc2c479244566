#!/usr/bin/env python3
"""linux-capture.py -- make packet vectors from real Linux traffic.

Run by tools/linux-capture.sh inside a throwaway network namespace (never
on the host's own network). Linux's TCP (192.0.2.1, the script's remote
side) talks over a TUN device to a small scripted responder that stands in
for purenet (192.168.0.1:8080) and sends what purenet sends in these
exchanges. Every packet crossing the TUN is written to a pcap, and the
exchange is written as a packetdrill-subset script: what Linux sent becomes
the inbound ('<') lines -- its own SYN options, timestamps, window updates,
SACK blocks and FIN sequences, input no one here wrote -- and what the
responder sent becomes the outbound ('>') lines the stack must reproduce.

A responder segment marked "lost" is recorded as a '>' line but never
written to the TUN, so Linux sees a hole and answers with SACK blocks.

Usage (as root, inside a fresh namespace): linux-capture.py OUTDIR
"""
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
DEV = "pnvec0"
LINUX_IP = bytes([192, 0, 2, 1])
STACK_IP = bytes([192, 168, 0, 1])
PORT = 8080
OUR_ISN = 1000000


def pattern(off):
    return (off % 251) + 1


def payload(off, n):
    return bytes(pattern(off + i) for i in range(n))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


# ---- packets ---------------------------------------------------------------

def build_tcp(src, dst, sport, dport, seq, ack, flags, win, opts, data, ipid):
    olen = len(opts)
    assert olen % 4 == 0
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (20 + olen) // 4 << 4, flags, win, 0, 0) + opts
    seg = hdr + data
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), ipid, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + seg


def parse_tcp(pkt):
    ihl = (pkt[0] & 15) * 4
    if pkt[9] != 6:
        return None
    t = pkt[ihl:]
    sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", t[:16])
    hl = (off >> 4) * 4
    opts = []
    i = 20
    while i < hl:
        k = t[i]
        if k == 0:
            opts.append(("eol",))
            break
        if k == 1:
            opts.append(("nop",))
            i += 1
            continue
        ln = t[i + 1]
        body = t[i + 2:i + ln]
        if k == 2:
            opts.append(("mss", struct.unpack("!H", body)[0]))
        elif k == 3:
            opts.append(("wscale", body[0]))
        elif k == 4:
            opts.append(("sackOK",))
        elif k == 8:
            opts.append(("TS",) + struct.unpack("!II", body))
        elif k == 5:
            opts.append(("sack", [struct.unpack("!II", body[j:j + 8]) for j in range(0, len(body), 8)]))
        else:
            opts.append(("opt%d" % k,))
        i += ln
    return dict(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, win=win,
                opts=opts, data=t[hl:])


def flagstr(f):
    s = ""
    for bit, ch in ((2, "S"), (1, "F"), (4, "R"), (8, "P")):
        if f & bit:
            s += ch
    if f & 0x10:
        s += "."
    return s


def optstr(opts, sack_base):
    out = []
    for o in opts:
        if o[0] == "mss":
            out.append("mss %d" % o[1])
        elif o[0] == "wscale":
            out.append("wscale %d" % o[1])
        elif o[0] == "TS":
            out.append("TS val %d ecr %d" % (o[1], o[2]))
        elif o[0] == "sack":
            out.append("sack " + " ".join("%d:%d" % ((l - sack_base) & 0xFFFFFFFF, (r - sack_base) & 0xFFFFFFFF)
                                          for l, r in o[1]))
        else:
            out.append(o[0])
    return ",".join(out)


def enc_opts(opts):
    b = b""
    for o in opts:
        if o[0] == "nop":
            b += b"\x01"
        elif o[0] == "mss":
            b += struct.pack("!BBH", 2, 4, o[1])
        elif o[0] == "wscale":
            b += struct.pack("!BBB", 3, 3, o[1])
        elif o[0] == "sackOK":
            b += b"\x04\x02"
        elif o[0] == "TS":
            b += struct.pack("!BBII", 8, 10, o[1], o[2])
    while len(b) % 4:
        b += b"\0"
    return b


# ---- the capture session ----------------------------------------------------

class Session:
    def __init__(self, name, title, refs, knobs):
        self.name, self.title, self.refs, self.knobs = name, title, refs, knobs
        self.fd = None
        self.frames = []      # (time, bytes) for the pcap
        self.lines = []       # (time, text)
        self.t0 = None
        self.last = 0.0
        self.linux_isn = None
        self.ipid = 1
        self.ts0 = None

    def now(self):
        return time.monotonic() - self.t0

    def open(self):
        self.fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(self.fd, TUNSETIFF, struct.pack("16sH", DEV.encode(), IFF_TUN | IFF_NO_PI))
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "addr", "add", "192.0.2.1/24", "dev", DEV],
                    ["ip", "link", "set", DEV, "up"],
                    ["ip", "route", "add", "192.168.0.0/24", "dev", DEV]):
            subprocess.run(cmd, check=True)
        self.t0 = time.monotonic()

    def close(self):
        os.close(self.fd)
        subprocess.run(["ip", "link", "del", DEV], check=False, stderr=subprocess.DEVNULL)

    def ts(self):
        # the responder's timestamp clock: milliseconds, as purenet's
        return 1000 + int(self.now() * 1000)

    # one line, with its time relative to the previous one
    def line(self, text, t=None):
        t = self.now() if t is None else t
        rel = max(0.0, t - self.last)
        self.last = t
        self.lines.append("+%.3f %s" % (rel, text))

    def call(self, text):
        self.line(text)

    def recv(self, timeout=2.0):
        """Next TCP packet from Linux, recorded as a '<' line."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError("%s: Linux sent nothing for %.1f s" % (self.name, timeout))
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            pkt = os.read(self.fd, 65535)
            if len(pkt) < 20 or pkt[0] >> 4 != 4:
                continue  # IPv6 router solicitations and the like
            t = self.now()
            self.frames.append((t, pkt))
            p = parse_tcp(pkt)
            if p is None or p["dport"] != PORT:
                continue
            if p["flags"] & 2 and self.linux_isn is None:
                self.linux_isn = p["seq"]
            self.line("< " + self.fmt_in(p), t)
            return p

    def fmt_in(self, p):
        rs = (p["seq"] - self.linux_isn) & 0xFFFFFFFF
        n = len(p["data"])
        s = "%s %d:%d(%d)" % (flagstr(p["flags"]), rs, rs + n, n)
        if p["flags"] & 0x10:
            s += " ack %d" % ((p["ack"] - OUR_ISN) & 0xFFFFFFFF)
        s += " win %d" % p["win"]
        if p["opts"]:
            s += " <%s>" % optstr(p["opts"], OUR_ISN)
        return s

    def send(self, flags, seq, ack, opts, n=0, lost=False, syn=False):
        """A segment from the stand-in: a '>' line, and on the wire unless lost.
        seq/ack are relative (ours / Linux's)."""
        data = payload(seq - 1, n) if n else b""
        pkt = build_tcp(STACK_IP, LINUX_IP, PORT, self.lport, OUR_ISN + seq, self.linux_isn + ack,
                        flags, 16384, enc_opts(opts), data, self.ipid)
        self.ipid += 1
        s = "%s %d:%d(%d)" % (flagstr(flags), seq, seq + n, n)
        if flags & 0x10:
            s += " ack %d" % ack
        if opts:
            s += " <%s>" % optstr(opts, self.linux_isn)
        t = self.now()
        self.line("> " + s, t)
        if not lost:
            os.write(self.fd, pkt)
            self.frames.append((t, pkt))

    def write_pcap(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))  # LINKTYPE_RAW
            for t, b in self.frames:
                sec = int(t)
                f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(b), len(b)))
                f.write(b)

    def write_pkt(self, path, header_extra):
        with open(path, "w") as f:
            f.write("// %s\n" % self.title)
            f.write("// Reference: %s\n" % self.refs)
            f.write("// Source: Linux %s via TUN in a throwaway network namespace,\n" % os.uname().release)
            f.write("// captured by tools/linux-capture.sh (pcap: %s.pcap). Inbound lines are\n" % self.name)
            f.write("// Linux's packets as captured; outbound lines are what the stand-in for\n")
            f.write("// purenet sent (segments marked lost never reached Linux).\n")
            for h in header_extra:
                f.write("// %s\n" % h)
            if self.knobs:
                f.write("// purenet: %s\n" % self.knobs)
            f.write("--tolerance_usecs=50000\n\n")
            for l in self.lines:
                f.write(l + "\n")


def ack_opts(s, peer_ts):
    return [("nop",), ("nop",), ("TS", s.ts(), peer_ts)]


def last_ts(p):
    for o in p["opts"]:
        if o[0] == "TS":
            return o[1]
    return 0


# ---- scenario 1: Linux client, purenet sends, one segment lost, SACK -------

def until_flag(s, bit):
    while True:
        p = s.recv()
        if p["flags"] & bit:
            return p


def scenario_sack(out):
    s = Session("linux-client-sack-recovery",
                "Linux connects to purenet, purenet sends 5 full segments of which the first is lost; "
                "Linux's three duplicate ACKs carry its own SACK blocks and purenet retransmits the hole "
                "at once; then purenet closes first and Linux follows.",
                "RFC 2018; RFC 6675 5; RFC 5681 3.2; RFC 7323; RFC 9293 3.6", "delack=off")
    s.open()
    got = {}

    def client():
        c = socket.create_connection(("192.168.0.1", PORT), timeout=10)
        data = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
        got["data"] = data
        c.close()

    th = threading.Thread(target=client)
    th.start()
    syn = s.recv()
    s.lport = syn["sport"]
    first = s.lines.pop()
    s.lines += ["0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
                "+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0",
                "+0 bind(3, ..., ...) = 0",
                "+0 listen(3, 1) = 0",
                "+0 " + first.split(" ", 1)[1]]
    s.send(0x12, 0, 1, [("mss", 1460), ("nop",), ("wscale", 0), ("sackOK",), ("TS", s.ts(), last_ts(syn))])
    a = s.recv()
    s.call("accept(3, ..., ...) = 4")
    n, mss = 5, 1448  # Linux's MSS 1460 less 12 bytes of timestamps
    s.call("write(4, ..., %d) = %d" % (n * mss, n * mss))
    for i in range(n):
        s.send(0x18 if i == n - 1 else 0x10, 1 + i * mss, 1, ack_opts(s, last_ts(a)), mss, lost=(i == 0))
    dups = [s.recv() for _ in range(3)]
    s.send(0x10, 1, 1, ack_opts(s, last_ts(dups[-1])), mss)
    while True:  # the fourth duplicate ACK, then the ACK of everything
        p = s.recv()
        if (p["ack"] - OUR_ISN) & 0xFFFFFFFF == 1 + n * mss:
            break
    s.call("close(4) = 0")
    s.send(0x11, 1 + n * mss, 1, ack_opts(s, last_ts(p)))
    fin = until_flag(s, 1)
    s.send(0x10, 2 + n * mss, 2, ack_opts(s, last_ts(fin)))
    th.join(5)
    assert got.get("data") == payload(0, n * mss), "Linux got wrong data"
    s.close()
    s.write_pcap(os.path.join(out, s.name + ".pcap"))
    s.write_pkt(os.path.join(out, s.name + ".pkt"), [])


# ---- scenario 2: purenet connects, Linux sends a burst and closes --------

def scenario_download(out):
    s = Session("linux-server-burst-and-fin",
                "purenet connects to Linux; Linux answers with its own SYN-ACK options, sends a burst "
                "of segments and its FIN; purenet acknowledges each one, reads, and closes.",
                "RFC 9293 3.5, 3.6, 3.10.7.4; RFC 7323; RFC 2018", "delack=off")
    s.open()
    blob = payload(0, 6000)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("192.0.2.1", PORT))
    ls.listen(1)

    def server():
        c, _ = ls.accept()
        c.sendall(blob)
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
        c.close()

    th = threading.Thread(target=server)
    th.start()
    # purenet's SYN, from port 40000 (the runner learns its own port)
    s.lport = 40000
    s.linux_isn = 0
    s.lines += ["0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
                "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0",
                "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)"]
    s.last = s.now()
    syn_ts = s.ts()
    # send the SYN by hand: Linux's ISN is not known yet
    pkt = build_tcp(STACK_IP, LINUX_IP, 40000, PORT, OUR_ISN, 0, 0x02, 16384,
                    enc_opts([("mss", 1460), ("nop",), ("wscale", 0), ("sackOK",), ("TS", syn_ts, 0)]), b"", 1)
    os.write(s.fd, pkt)
    s.frames.append((s.now(), pkt))
    s.line("> S 0:0(0) <mss 1460,nop,wscale 0,sackOK,TS val %d ecr 0>" % syn_ts)
    # Linux's SYN-ACK comes to port 40000; parse it with our port as "dport"
    synack = recv_to(s, 40000)
    s.send_from(0x10, 1, 1, ack_opts(s, last_ts(synack)))
    got = 0
    fin = None
    while fin is None:
        p = recv_to(s, 40000)
        got += len(p["data"])
        if p["flags"] & 1:
            fin = p
        s.send_from(0x10, 1, 1 + got + (1 if fin else 0), ack_opts(s, last_ts(p)))
    s.call("read(3, ..., 10000) = %d" % got)
    s.call("read(3, ..., 10000) = 0")
    s.call("close(3) = 0")
    s.send_from(0x11, 1, 2 + got, ack_opts(s, last_ts(fin)))
    recv_to(s, 40000)
    th.join(5)
    ls.close()
    s.close()
    s.write_pcap(os.path.join(out, s.name + ".pcap"))
    s.write_pkt(os.path.join(out, s.name + ".pkt"), [])


# ---- scenario 3: Linux client uploads and closes first -------------------

def scenario_upload(out):
    s = Session("linux-client-upload-and-fin",
                "Linux connects, sends 5000 bytes in its own segmentation and closes first; purenet "
                "acknowledges each segment, reads everything, sees EOF and closes (LAST-ACK).",
                "RFC 9293 3.6 (figure 12), 3.10.7.4; RFC 7323", "delack=off")
    s.open()

    def client():
        c = socket.create_connection(("192.168.0.1", PORT), timeout=10)
        c.sendall(payload(0, 5000))
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
        c.close()

    th = threading.Thread(target=client)
    th.start()
    syn = s.recv()
    s.lport = syn["sport"]
    first = s.lines.pop()
    s.lines += ["0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
                "+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0",
                "+0 bind(3, ..., ...) = 0",
                "+0 listen(3, 1) = 0",
                "+0 " + first.split(" ", 1)[1]]
    s.send(0x12, 0, 1, [("mss", 1460), ("nop",), ("wscale", 0), ("sackOK",), ("TS", s.ts(), last_ts(syn))])
    s.recv()
    s.call("accept(3, ..., ...) = 4")
    got = 0
    fin = None
    while fin is None:
        p = s.recv()
        if not p["data"] and not p["flags"] & 1:
            continue
        got += len(p["data"])
        if p["flags"] & 1:
            fin = p
        s.send(0x10, 1, 1 + got + (1 if fin else 0), ack_opts(s, last_ts(p)))
    s.call("read(4, ..., 10000) = %d" % got)
    s.call("read(4, ..., 10000) = 0")
    s.call("close(4) = 0")
    s.send(0x11, 1, 2 + got, ack_opts(s, last_ts(fin)))
    s.recv()
    th.join(5)
    s.close()
    s.write_pcap(os.path.join(out, s.name + ".pcap"))
    s.write_pkt(os.path.join(out, s.name + ".pkt"), [])


def recv_to(s, port):
    """Like Session.recv, for packets Linux sends to the stand-in as a client."""
    end = time.monotonic() + 3
    while True:
        r, _, _ = select.select([s.fd], [], [], max(0, end - time.monotonic()))
        if not r:
            raise RuntimeError("%s: Linux sent nothing" % s.name)
        pkt = os.read(s.fd, 65535)
        if len(pkt) < 20 or pkt[0] >> 4 != 4:
            continue
        t = s.now()
        s.frames.append((t, pkt))
        p = parse_tcp(pkt)
        if p is None or p["dport"] != port:
            continue
        if p["flags"] & 2:
            s.linux_isn = p["seq"]
        rs = (p["seq"] - s.linux_isn) & 0xFFFFFFFF
        n = len(p["data"])
        txt = "%s %d:%d(%d)" % (flagstr(p["flags"]), rs, rs + n, n)
        if p["flags"] & 0x10:
            txt += " ack %d" % ((p["ack"] - OUR_ISN) & 0xFFFFFFFF)
        txt += " win %d" % p["win"]
        if p["opts"]:
            txt += " <%s>" % optstr(p["opts"], OUR_ISN)
        s.line("< " + txt, t)
        return p


def send_from(self, flags, seq, ack, opts, n=0):
    """A segment of the stand-in acting as a client (Linux is the server)."""
    data = payload(seq - 1, n) if n else b""
    pkt = build_tcp(STACK_IP, LINUX_IP, self.lport, PORT, OUR_ISN + seq, self.linux_isn + ack,
                    flags, 16384, enc_opts(opts), data, self.ipid)
    self.ipid += 1
    txt = "%s %d:%d(%d)" % (flagstr(flags), seq, seq + n, n)
    if flags & 0x10:
        txt += " ack %d" % ack
    if opts:
        txt += " <%s>" % optstr(opts, self.linux_isn)
    t = self.now()
    self.line("> " + txt, t)
    os.write(self.fd, pkt)
    self.frames.append((t, pkt))


Session.send_from = send_from


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "vectors/linux"
    os.makedirs(out, exist_ok=True)
    which = sys.argv[2:] or ["sack", "download", "upload"]
    if "sack" in which:
        scenario_sack(out)
    if "download" in which:
        scenario_download(out)
    if "upload" in which:
        scenario_upload(out)


if __name__ == "__main__":
    main()
