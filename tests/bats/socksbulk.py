#!/usr/bin/env python3
"""socksbulk.py: many concurrent bulk streams through a SOCKS5 port, each
checked byte for byte, for the bats tests.

  socksbulk.py PROXY_PORT STREAMS BYTES

Starts an echo server of its own on 127.0.0.1 (asyncio: one process, not
a fork per stream), then opens STREAMS connections through the SOCKS5
proxy on 127.0.0.1:PROXY_PORT to it, all at once. Each sends BYTES bytes
of its own pseudo-random pattern while reading the echo, half-closes,
and compares what came back with what it sent. Prints "ok STREAMS" and
exits 0 when every stream got exactly its bytes back; else prints what
went wrong for each failed stream and exits 1. Every wait is bounded.
"""
import asyncio
import random
import struct
import sys

CHUNK = 64 * 1024
TIMEOUT = 120


async def echo(reader, writer):
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.write_eof()
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def stream(i, proxy, target, size):
    data = random.Random(i).randbytes(size)
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy)
    writer.write(b"\x05\x01\x00")
    if await reader.readexactly(2) != b"\x05\x00":
        return "greeting refused"
    writer.write(b"\x05\x01\x00\x01\x7f\x00\x00\x01" + struct.pack(">H", target))
    reply = await reader.readexactly(10)
    if reply[1] != 0:
        return "CONNECT refused: REP %02x" % reply[1]

    async def send():
        for off in range(0, size, CHUNK):
            writer.write(data[off:off + CHUNK])
            await writer.drain()
        writer.write_eof()

    async def recv():
        got = bytearray()
        while True:
            b = await reader.read(CHUNK)
            if not b:
                return bytes(got)
            got += b

    _, got = await asyncio.gather(send(), recv())
    writer.close()
    if got != data:
        n = min(len(got), len(data))
        first = next((k for k in range(n) if got[k] != data[k]), n)
        return "got %d bytes of %d, first difference at %d" % (
            len(got), size, first)
    return None


async def main():
    proxy, n, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    server = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=1024)
    target = server.sockets[0].getsockname()[1]
    results = await asyncio.wait_for(
        asyncio.gather(*(stream(i, proxy, target, size) for i in range(n)),
                       return_exceptions=True), TIMEOUT)
    server.close()
    bad = [(i, r) for i, r in enumerate(results) if r is not None]
    for i, r in bad:
        print("stream %d: %s" % (i, r))
    if bad:
        return 1
    print("ok %d" % n)
    return 0


sys.exit(asyncio.run(main()))
