#!/usr/bin/env python3
"""ctl.py: one conversation with a control port, for the bats tests.

  ctl.py [-c COOKIEFILE] [--no-quit] ADDR [-c COOKIEFILE] [--no-quit] LINE...

ADDR is HOST:PORT or unix:PATH. Each LINE is sent with CRLF, in order,
and once every line is out QUIT follows (unless --no-quit); then
everything the server writes is read until it closes the connection and
printed without the CRs. Two LINEs are special: @AUTH sends AUTHENTICATE
with the cookie file's bytes in hex, @SAFE authenticates with SAFECOOKIE
(AUTHCHALLENGE, then the HMAC, both checked). Exit 0, or 3 when the
server did not close within 20 s.
"""
import binascii
import hashlib
import hmac
import os
import socket
import sys


def connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(addr[5:])
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host.strip("[]"), int(port)))
    s.settimeout(20)
    return s


def read_line(s, buf):
    while b"\r\n" not in buf[0]:
        d = s.recv(4096)
        if not d:
            raise EOFError
        buf[0] += d
    line, buf[0] = buf[0].split(b"\r\n", 1)
    return line


def safecookie(s, cookie, buf, out):
    cnonce = os.urandom(32)
    s.sendall(b"AUTHCHALLENGE SAFECOOKIE " + binascii.hexlify(cnonce) + b"\r\n")
    line = read_line(s, buf)
    f = dict(w.split(b"=", 1) for w in line.split()[2:])
    snonce = binascii.unhexlify(f[b"SERVERNONCE"])
    want = hmac.new(b"Tor safe cookie authentication server-to-controller hash",
                    cookie + cnonce + snonce, hashlib.sha256).hexdigest().upper()
    out.append("AUTHCHALLENGE " + ("serverhash ok" if f[b"SERVERHASH"].decode() == want
                                   else "SERVERHASH WRONG"))
    mac = hmac.new(b"Tor safe cookie authentication controller-to-server hash",
                   cookie + cnonce + snonce, hashlib.sha256).hexdigest()
    s.sendall(b"AUTHENTICATE " + mac.encode() + b"\r\n")


def main():
    args = sys.argv[1:]
    addr = None
    cookie = None
    quit_ = True
    # the options may come before or after ADDR; the LINEs come last
    while args and (addr is None or args[0] in ("-c", "--no-quit")):
        arg = args.pop(0)
        if arg == "-c":
            cookie = open(args.pop(0), "rb").read()
        elif arg == "--no-quit":
            quit_ = False
        else:
            addr = arg
    s = connect(addr)
    buf = [b""]
    out = []
    try:
        for line in args + (["QUIT"] if quit_ else []):
            if line == "@AUTH":
                s.sendall(b"AUTHENTICATE " + binascii.hexlify(cookie) + b"\r\n")
            elif line == "@SAFE":
                safecookie(s, cookie, buf, out)
            else:
                s.sendall(line.encode("latin1") + b"\r\n")
    except (EOFError, BrokenPipeError, ConnectionResetError):
        # the server closed while lines were still going out (as it does
        # after 514 or 515): what it wrote before is still to be read
        pass
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf[0] += d
    except ConnectionResetError:
        pass
    except socket.timeout:
        print("".join(o + "\n" for o in out) + buf[0].decode("latin1").replace("\r", ""))
        print("ctl.py: no close within 20 s", file=sys.stderr)
        return 3
    text = buf[0].decode("latin1").replace("\r", "")
    sys.stdout.write("".join(o + "\n" for o in out) + text)
    return 0


sys.exit(main())
