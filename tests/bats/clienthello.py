#!/usr/bin/env python3
"""TLS ClientHellos for link_clienthello.bats.

  clienthello.py capture PORT FILE   listen on 127.0.0.1:PORT, write the
                                     first ClientHello record a client
                                     sends to FILE, close; one client
  clienthello.py shape FILE          print its shape, one field a line:
                                     what stays the same between two
                                     hellos of one TLS stack (versions,
                                     cipher suites, extensions in order,
                                     groups, key-share groups, signature
                                     algorithms...), without what is
                                     random (random, session id bytes,
                                     key shares, the server name, the
                                     padding length that follows it)
"""
import re
import socket
import struct
import sys


def capture(port, path):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    srv.settimeout(60)
    conn, _ = srv.accept()
    conn.settimeout(30)
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            break
        buf += data
        if len(buf) >= 5 and len(buf) >= 5 + struct.unpack(">H", buf[3:5])[0]:
            break
    conn.close()
    srv.close()
    with open(path, "wb") as f:
        f.write(buf)


def u16(b, o):
    return struct.unpack(">H", b[o:o + 2])[0]


def shape(path):
    b = open(path, "rb").read()
    if len(b) < 5 or b[0] != 22:
        sys.exit("%s: not a TLS handshake record" % path)
    rec_len = u16(b, 3)
    h = b[5:5 + rec_len]
    if h[0] != 1:
        sys.exit("%s: not a ClientHello" % path)
    out = ["record version %s" % b[1:3].hex(), "record length %d" % rec_len]
    p = 4
    out.append("legacy version %s" % h[p:p + 2].hex())
    p += 2 + 32
    out.append("session id length %d" % h[p])
    p += 1 + h[p]
    n = u16(h, p)
    out.append("cipher suites " + " ".join(
        h[p + 2 + i:p + 4 + i].hex() for i in range(0, n, 2)))
    p += 2 + n
    out.append("compression " + h[p + 1:p + 1 + h[p]].hex())
    p += 1 + h[p]
    end = p + 2 + u16(h, p)
    p += 2
    names = []
    while p < end:
        t, l = u16(h, p), u16(h, p + 2)
        d = h[p + 4:p + 4 + l]
        p += 4 + l
        names.append("%d" % t)
        if t == 0:
            name = d[5:].decode("ascii", "replace")
            ok = re.fullmatch(r"www\.[a-z2-7]{4,25}\.com", name)
            out.append("server name %s" % ("www.<base32{4,25}>.com" if ok
                                            else "odd: " + name))
        elif t == 21:
            out.append("padding (length varies with the name)")
        elif t == 51:
            q, groups = 2, []
            while q < len(d):
                g, kl = u16(d, q), u16(d, q + 2)
                groups.append("%04x/%d" % (g, kl))
                q += 4 + kl
            out.append("key shares " + " ".join(groups))
        else:
            out.append("extension %d %s" % (t, d.hex()))
    out.append("extension order " + " ".join(names))
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "capture":
        capture(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "shape":
        shape(sys.argv[2])
    else:
        sys.exit(__doc__)
