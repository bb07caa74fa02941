#!/usr/bin/env python3
"""A paced TCP bulk stream through the VPN (an HTTP download's shape: one connection, steady rate).

  tcpstream.py sink ADDR PORT OUT.json   (in the server's namespace) accept one connection, read
                                         it to the end (or SIGTERM), then write one JSON object:
                                         bytes, secs, max_gap_ms (longest time between two reads
                                         that brought data: the stall as the application saw it;
                                         after SIGTERM the stall still going counts), gap_at_s,
                                         ended ("eof" or "terminated")
  tcpstream.py send SRC HOST PORT BITS_PER_S SECS [CHUNK]
                                         (in the EU's namespace, from address SRC) send at that
                                         rate for SECS in CHUNK-byte writes (default 1,000; an
                                         audio stream writes 20 ms worth at a time), then close

Retransmissions are read from the sender's namespace (/proc/net/snmp, Tcp RetransSegs) by the
caller, before and after."""
import json, signal, socket, sys, time


def sink(addr, port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    c, _ = s.accept()
    t0 = last = time.monotonic()
    total, max_gap, gap_at, ended = 0, 0.0, 0.0, "eof"

    def stop(*_):
        raise InterruptedError

    # a caller that gives up on a connection whose path died (SIGTERM) still gets the stall so far
    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            data = c.recv(65536)
            now = time.monotonic()
            if not data:
                break
            if total and now - last > max_gap:
                max_gap, gap_at = now - last, last - t0
            total += len(data)
            last = now
    except InterruptedError:
        now, ended = time.monotonic(), "terminated"
        if now - last > max_gap:
            max_gap, gap_at = now - last, last - t0
    json.dump({"bytes": total, "secs": round(last - t0, 3), "max_gap_ms": round(max_gap * 1000, 1),
               "gap_at_s": round(gap_at, 3), "ended": ended}, open(out, "w"))


def send(src, host, port, rate, secs, chunk_bytes=1000):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.connect((host, port))
    chunk = b"x" * chunk_bytes
    period = len(chunk) * 8 / rate
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < secs:
        due = t0 + n * period
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        s.sendall(chunk)
        n += 1
    s.close()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "sink":
        sink(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) in (7, 8) and sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), *map(int, sys.argv[7:]))
    else:
        sys.exit(__doc__)
