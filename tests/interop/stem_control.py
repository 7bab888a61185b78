#!/usr/bin/python3
"""stem_control.py: Debian's python3-stem (a controller nobody here wrote)
drives torkitd's ControlPort while streams go through its SocksPort.

  stem_control.py CONTROLPORT SOCKSPORT ECHONAME ECHOPORT TORKITD_LOG [PID...]

The PIDs are tornet's directory authorities, stopped (SIGSTOP) by the
caller before torkitd started, so that its bootstrap cannot finish before
stem has subscribed to STATUS_CLIENT: they get SIGCONT once it has, and
the bootstrap events that follow are stem's to see.

Prints one "what: value" line per step for tests/interop/control_stem.bats
to check; exits non-zero (with the reason on stderr) when a step cannot
be done at all. The streams are SOCKS5 CONNECTs by name to the echo
service; which circuit each used is read from torkitd's log (SafeLogging
0, Log info), in the order they opened:

  A  opened before NEWNYM and held open across it
  B  opened before NEWNYM, closed before it
  C  opened after NEWNYM

A and B must share a circuit (so the difference after is NEWNYM's doing),
C must not use it, and A must still carry bytes after NEWNYM (a retired
circuit keeps the streams it has).

Run with /usr/bin/python3: stem is Debian's package, not a pip module.
"""
import os
import queue
import re
import signal
import socket
import struct
import sys
import time

import stem
import stem.connection
from stem.control import Controller, EventType, Listener, Signal

WAIT = 120  # seconds for any one step on a loaded machine


def socks_connect(port, name, dport):
    s = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    s.sendall(b"\x05\x01\x00")
    if s.recv(2) != b"\x05\x00":
        raise RuntimeError("SOCKS5 method refused")
    n = name.encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(n)]) + n + struct.pack(">H", dport))
    rep = b""
    while len(rep) < 10:
        d = s.recv(10 - len(rep))
        if not d:
            raise RuntimeError("SOCKS5 connection closed before the reply")
        rep += d
    if rep[1] != 0:
        raise RuntimeError("SOCKS5 reply %d" % rep[1])
    return s


def echo(s, text):
    s.sendall(text)
    got = b""
    while len(got) < len(text):
        d = s.recv(4096)
        if not d:
            raise RuntimeError("stream closed before its echo")
        got += d
    return got == text


def log_wait(path, pattern, count=1):
    """the first `count` matches of pattern in the log, waiting for them"""
    rx = re.compile(pattern)
    deadline = time.monotonic() + WAIT
    while True:
        with open(path, errors="replace") as f:
            found = [m for m in map(rx.search, f) if m]
        if len(found) >= count:
            return found[:count]
        if time.monotonic() > deadline:
            raise RuntimeError("no %d lines /%s/ in %s" % (count, pattern, path))
        time.sleep(0.1)


def main():
    cport, sport, ename, eport, log = sys.argv[1:6]
    held = [int(p) for p in sys.argv[6:]]
    cport, sport, eport = int(cport), int(sport), int(eport)

    ctl = Controller.from_port(address="127.0.0.1", port=cport)
    pi = stem.connection.get_protocolinfo(ctl)
    print("auth methods:", ",".join(sorted(m.upper() for m in pi.auth_methods)))
    print("cookie file:", pi.cookie_path)
    ctl.authenticate()  # stem picks SAFECOOKIE and reads the file itself
    print("authenticated:", ctl.is_authenticated())
    print("version:", ctl.get_version())

    # the bootstrap: subscribe first, so no phase is missed between the
    # GETINFO and the events
    events = queue.Queue()
    ctl.add_event_listener(events.put, EventType.STATUS_CLIENT)
    phase = ctl.get_info("status/bootstrap-phase")
    print("bootstrap phase at first:", "done" if "PROGRESS=100 " in phase else "not done")
    for pid in held:
        os.kill(pid, signal.SIGCONT)
    seen = 0
    deadline = time.monotonic() + WAIT
    while "PROGRESS=100 " not in phase + " ":
        try:
            ev = events.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise RuntimeError("no bootstrap to 100%%; last: %s" % phase)
        if ev.action == "BOOTSTRAP":
            seen += 1
            phase = "%s BOOTSTRAP %s" % (ev.runlevel, " ".join(
                "%s=%s" % (k, '"%s"' % v if " " in v else v)
                for k, v in ev.keyword_args.items()))
    print("bootstrap phase:", ctl.get_info("status/bootstrap-phase"))
    print("bootstrap events up to 100%:", seen)
    print("socks listeners:", " ".join("%s:%d" % a for a in ctl.get_listeners(Listener.SOCKS)))

    # streams around NEWNYM
    a = socks_connect(sport, ename, eport)
    print("stream A echoes:", echo(a, b"A before\n"))
    # 1 once a circuit was built (the bootstrap's 100% comes before the
    # first circuit in torkitd: it is not waited for here)
    print("circuit established:", ctl.get_info("status/circuit-established"))
    b = socks_connect(sport, ename, eport)
    print("stream B echoes:", echo(b, b"B before\n"))
    b.close()
    ctl.signal(Signal.NEWNYM)
    log_wait(log, r"NEWNYM: new requests get new circuits")
    c = socks_connect(sport, ename, eport)
    print("stream C echoes:", echo(c, b"C after\n"))
    c.close()
    print("stream A echoes after NEWNYM:", echo(a, b"A after\n"))
    a.close()
    circ = [m.group(1) for m in log_wait(
        log, r"CONNECT %s:%d open on circ (\d+) " % (re.escape(ename), eport), 3)]
    print("circuits A B C:", " ".join(circ))
    print("A and B share a circuit:", circ[0] == circ[1])
    print("C is on another circuit:", circ[2] != circ[0])

    reply = ctl.msg("FOO")
    print("unknown command:", reply.raw_content().strip())
    ctl.close()
    return 0


try:
    sys.exit(main())
except (stem.ControllerError, RuntimeError, OSError) as e:
    print("stem_control.py: %s: %s" % (type(e).__name__, e), file=sys.stderr)
    sys.exit(1)
