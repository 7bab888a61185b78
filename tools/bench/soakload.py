#!/usr/bin/env python3
"""soakload: a mixed, endless SOCKS5 load for tools/bench/soak.

    soakload.py --socks PORT --echo HOST:PORT --name NAME --seconds N
                [--workers N]
    soakload.py --serve-echo PORT

Each worker loops over, in turn: a short CONNECT (100 bytes echoed, then
half-close and close), a RESOLVE of NAME (Tor's F0 command), a bulk
stream (1 MB echoed), a client that aborts mid-stream (RST after 16 KB,
the echo unread) and a slow reader (256 KB sent, read 4 KB every 100 ms
for 3 s, then closed). The echo target is given by name when NAME
resolves to it (--echo-by-name) so the proxy's engine resolves it.
Prints one line per 60 s and a total: operations done, failures.
--serve-echo runs the echo target itself (asyncio, one process).
Loopback only.
"""

import argparse
import os
import asyncio
import socket
import struct
import sys
import time

COUNTS = {}


def count(what, ok):
    k = (what, ok)
    COUNTS[k] = COUNTS.get(k, 0) + 1


async def socks_connect(port, host, dport):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    name = host.encode()
    w.write(b"\x05\x01\x00" + b"\x05\x01\x00\x03" + bytes([len(name)]) + name
            + struct.pack(">H", dport))
    hello = await r.readexactly(2)
    rep = await r.readexactly(10)
    if hello != b"\x05\x00" or rep[1] != 0:
        w.close()
        raise OSError("SOCKS reply %s" % rep[:2].hex())
    return r, w


async def op_short(a):
    r, w = await socks_connect(a.socks, a.host, a.port)
    w.write(b"s" * 100)
    got = await r.readexactly(100)
    w.write_eof()
    w.close()
    return got == b"s" * 100


async def op_resolve(a):
    r, w = await asyncio.open_connection("127.0.0.1", a.socks)
    name = a.name.encode()
    w.write(b"\x05\x01\x00" + b"\x05\xf0\x00\x03" + bytes([len(name)]) + name
            + b"\x00\x00")
    await r.readexactly(2)
    rep = await r.readexactly(10)
    w.close()
    return rep[1] == 0


async def op_bulk(a):
    r, w = await socks_connect(a.socks, a.host, a.port)
    data = b"b" * (1 << 20)

    async def send():
        w.write(data)
        await w.drain()
    t = asyncio.ensure_future(send())
    got = await r.readexactly(len(data))
    await t
    w.close()
    return got == data


async def op_abort(a):
    r, w = await socks_connect(a.socks, a.host, a.port)
    w.write(b"a" * 16384)
    await w.drain()
    sock = w.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    w.close()  # RST, the echo unread
    return True


async def op_slow(a):
    r, w = await socks_connect(a.socks, a.host, a.port)
    w.write(b"z" * (256 << 10))
    end = time.monotonic() + 3
    n = 0
    while time.monotonic() < end:
        n += len(await r.read(4096))
        await asyncio.sleep(0.1)
    w.close()
    return n > 0


OPS = [("short", op_short), ("resolve", op_resolve), ("bulk", op_bulk),
       ("abort", op_abort), ("slow", op_slow)]


async def worker(a, deadline, i):
    k = i
    while time.monotonic() < deadline:
        # The soak pauses the load to measure torkitd at rest.
        while a.pause_file and os.path.exists(a.pause_file):
            await asyncio.sleep(0.2)
        what, fn = OPS[k % len(OPS)]
        k += 1
        try:
            ok = await asyncio.wait_for(fn(a), 60)
        except Exception:
            ok = False
        count(what, bool(ok))
        if not ok:
            await asyncio.sleep(0.5)


async def report(deadline):
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(min(60, max(0.1, deadline - time.monotonic())))
        if time.monotonic() >= deadline:
            return
        print("%4d s: %s" % (time.monotonic() - t0, summary()), flush=True)


def summary():
    parts = []
    for what, _ in OPS:
        parts.append("%s %d/%d" % (what, COUNTS.get((what, True), 0),
                                   COUNTS.get((what, True), 0)
                                   + COUNTS.get((what, False), 0)))
    return ", ".join(parts)


async def load(a):
    deadline = time.monotonic() + a.seconds
    await asyncio.gather(report(deadline),
                         *[worker(a, deadline, i) for i in range(a.workers)])
    print("total: %s" % summary(), flush=True)


async def echo_client(r, w):
    try:
        while True:
            b = await r.read(65536)
            if not b:
                break
            w.write(b)
            await w.drain()
        w.write_eof()
    except Exception:
        pass
    w.close()


async def serve(port):
    srv = await asyncio.start_server(echo_client, "127.0.0.1", port,
                                     backlog=1024)
    async with srv:
        await srv.serve_forever()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--socks", type=int)
    p.add_argument("--echo")
    p.add_argument("--name")
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--workers", type=int, default=6)
    p.add_argument("--serve-echo", type=int)
    p.add_argument("--pause-file", help="no new operation while it exists")
    a = p.parse_args()
    if a.serve_echo:
        asyncio.run(serve(a.serve_echo))
        return
    a.host, port = a.echo.rsplit(":", 1)
    a.port = int(port)
    asyncio.run(load(a))


if __name__ == "__main__":
    sys.exit(main())
