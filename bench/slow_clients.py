#!/usr/bin/env python3
"""Holds N idle and slow connections open against a Nucleo server and probes /healthz.

    bench/slow_clients.py --port 8080 --connections 1000 --seconds 30

A share of the connections send nothing; the rest trickle a request head one byte
every few seconds (slowloris). Connections the server closes (its header and
keep-alive deadlines) are opened again at once, so the count stays at N. They come
from 127.0.0.2 … 127.0.0.N/per_client+1, so the server's per-client connection limit
does not refuse them; everything stays on loopback. Meanwhile /healthz is fetched on a
fresh connection from 127.0.0.1 every 50 ms. Prints one JSON line: connections held,
reopened, and the probes' outcome and latency.
"""
import argparse
import asyncio
import json
import time

HEAD = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: " + b"a" * 4096


async def hold(port, source, trickle, stop, stats):
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        except OSError:
            stats["connect_errors"] += 1
            await asyncio.sleep(0.5)
            continue
        stats["open"] += 1
        try:
            sent = 0
            while not stop.is_set():
                if trickle and sent < len(HEAD):
                    writer.write(HEAD[sent:sent + 1])
                    sent += 1
                try:
                    data = await asyncio.wait_for(reader.read(4096), timeout=2.0)
                    if not data:
                        break  # the server closed it: open another
                except asyncio.TimeoutError:
                    pass
        except OSError:
            pass
        finally:
            stats["open"] -= 1
            stats["reopened"] += 1
            writer.close()


async def probe(port, stop, latencies, failures):
    while not stop.is_set():
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            if answer.startswith(b"HTTP/1.1 200"):
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                failures.append(answer[:40].decode(errors="replace"))
        except (OSError, asyncio.TimeoutError) as e:
            failures.append(type(e).__name__)
        await asyncio.sleep(0.05)


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--connections", type=int, default=1000)
    p.add_argument("--per-client", type=int, default=40, help="connections per source address (≤ the server's limit)")
    p.add_argument("--trickle-share", type=float, default=0.3, help="share of connections that trickle a head")
    p.add_argument("--seconds", type=float, default=30)
    args = p.parse_args()

    stop = asyncio.Event()
    stats = {"open": 0, "reopened": 0, "connect_errors": 0}
    held = []
    tasks = []
    for i in range(args.connections):
        source = "127.0.0.%d" % (2 + i // args.per_client)
        trickle = (i % 100) < args.trickle_share * 100
        tasks.append(asyncio.create_task(hold(args.port, source, trickle, stop, stats)))
    await asyncio.sleep(1)  # let them connect
    latencies, failures = [], []
    prober = asyncio.create_task(probe(args.port, stop, latencies, failures))
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        held.append(stats["open"])
        await asyncio.sleep(0.5)
    stop.set()
    await prober
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies.sort()
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(len(latencies) * q))], 2) if latencies else None
    print(json.dumps({
        "connections": args.connections,
        "held_min": min(held), "held_avg": round(sum(held) / len(held)),
        "reopened": stats["reopened"], "connect_errors": stats["connect_errors"],
        "healthz_ok": len(latencies), "healthz_failed": len(failures), "failures": failures[:5],
        "healthz_p50_ms": pick(0.5), "healthz_p99_ms": pick(0.99),
    }))


if __name__ == "__main__":
    asyncio.run(main())
