#!/usr/bin/env python3
"""A delivery probe through the VPN, at a fixed rate in both directions.

  probe.py echo ADDR PORT             (in the server's namespace) echo every datagram back
  probe.py send SRC HOST PORT RATE SECS  (in the EU's namespace, from address SRC) send RATE
                                      datagrams/s for SECS, each
                                      with a sequence number and the monotonic send time; print
                                      one JSON line: sent, received, lost, max_gap_ms (longest
                                      time between two consecutive echoes arriving, i.e. the
                                      interruption as both directions saw it), gap_at_s, and the
                                      reorder count.
A SIGUSR1 to the sender marks "now" (printed as mark_s) so that a test can tell which gap is the
event's. With PROBE_READY=FILE in the environment the sender creates FILE once that signal is handled
(a loaded machine can take over a second to start Python: signalling earlier kills the probe)."""
import json, os, select, signal, socket, struct, sys, time

FMT = "!Qd"


def echo(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, addr = s.recvfrom(2048)
        s.sendto(data, addr)


def send(src, host, port, rate, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setblocking(False)
    t0 = time.monotonic()
    mark = []
    signal.signal(signal.SIGUSR1, lambda *_: mark.append(time.monotonic() - t0))
    if os.environ.get("PROBE_READY"):
        open(os.environ["PROBE_READY"], "w").close()
    period, n, got, last_rx, max_gap, gap_at, reorder, top = 1.0 / rate, int(rate * secs), set(), None, 0.0, 0.0, 0, -1
    i = 0
    end = t0 + secs + 1.0
    while True:
        now = time.monotonic()
        if i < n and now >= t0 + i * period:
            try:
                s.sendto(struct.pack(FMT, i, now) + b"\0" * 100, (host, port))
            except OSError:
                pass  # no route / blocked during the event: counts as lost
            i += 1
            continue
        if now > end:
            break
        wait = max(0.0, min(t0 + i * period, end) - now) if i < n else end - now
        r, _, _ = select.select([s], [], [], wait)
        while r:
            try:
                data = s.recv(2048)
            except BlockingIOError:
                break
            seq, _ = struct.unpack(FMT, data[:16])
            rx = time.monotonic()
            if seq < top:
                reorder += 1
            top = max(top, seq)
            got.add(seq)
            if last_rx is not None and rx - last_rx > max_gap:
                max_gap, gap_at = rx - last_rx, last_rx - t0
            last_rx = rx
    print(json.dumps({"sent": n, "received": len(got), "lost": n - len(got), "max_gap_ms": round(max_gap * 1000, 1),
                      "gap_at_s": round(gap_at, 3), "reordered": reorder, "rate": rate,
                      "mark_s": round(mark[0], 3) if mark else None}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "echo":
        echo(sys.argv[2], int(sys.argv[3]))
    else:
        send(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]))
