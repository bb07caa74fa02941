#!/usr/bin/env python3
"""An RTP audio stream through the VPN (the paper's RTSP/RTP stream's shape: 20 ms packets, one way).

  rtpstream.py send SRC HOST PORT KBPS SECS
      (in the EU's namespace, from address SRC) send SECS * 50 RTP packets, one every 20 ms on an
      absolute schedule (a late packet does not delay the next ones), then an end report three
      times 100 ms apart; print one JSON line: sent, send_errors, late_ms_max, mark_s, t0_mono.
  rtpstream.py recv ADDR PORT SECS OUT.json [--grace S] [--until-idle S] [--first-timeout S]
      (in the server's namespace) receive until an end report arrives (+100 ms for stragglers), or
      SECS + grace (1 s) after the first packet, or (--until-idle) S seconds without a datagram;
      then write one JSON object (below). --first-timeout (60 s): give up if nothing arrives.

Packets: a 12-byte RTP header (version 2, PT 18 = G.729 at 8 kbps else 0 = PCMU, sequence number
from 0 so that losses at the very start count too, timestamp at 8 kHz, SSRC), then the send time
(CLOCK_MONOTONIC ns, 8 bytes: one clock for every network namespace of a kernel, so the receiver
measures the one-way delay) and KBPS * 1000 * 0.02 / 8 bytes of payload. The end report is an RTCP
sender report on the same port (RTP/RTCP multiplexing, RFC 5761) carrying the number of packets
sent: a loss at the very end of the stream is counted too, unless all three reports are lost (then
the count is the highest sequence number + 1).

The receiver's JSON: sent_expected (and the same as packets, the run record's name), received, lost, duplicated, reordered, interruption_ms (longest
time between two consecutive arrivals, the end report standing for the packet after the last, minus
the 20 ms spacing; a loss at the very start is in lost but not here), gap_at_s (when that gap began,
after the first arrival), delay_ms_median, delay_ms_p99 (one-way), loss_runs ([[first_lost_seq,
count], ...]; emodel.expand_runs rebuilds the lost flags), end_report, first_rx_mono, secs.

A SIGUSR1 to the sender marks "now" (printed as mark_s, after the first packet's send time), as in
probe.py; with PROBE_READY=FILE in the environment the sender creates FILE once that signal is
handled and the receiver once its socket is bound.
Tests and the experiment's self-check only: recv --drop-from S --drop-for MS discards every datagram
arriving in that window (S after the first arrival), a forced outage."""
import argparse, json, os, select, signal, socket, struct, sys, time

PERIOD = 0.02
RTP = struct.Struct("!BBHII")   # V/P/X/CC, M/PT, sequence, timestamp, SSRC
SENT_AT = struct.Struct("!Q")
SR = struct.Struct("!BBHIQIII")  # V/P/RC, PT 200, length, SSRC, NTP time, RTP time, packets, octets
SSRC = 0x0E1A571C


def ready():
    if os.environ.get("PROBE_READY"):
        open(os.environ["PROBE_READY"], "w").close()


def send(src, host, port, kbps, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setblocking(False)  # never stall the schedule: a failed send is a lost packet
    pt = 18 if kbps == 8 else 0
    pad = b"\0" * int(kbps * 1000 * PERIOD / 8)
    n, errors, late = int(round(secs / PERIOD)), 0, 0.0
    mark = []
    t0 = time.monotonic()  # the first packet's time
    signal.signal(signal.SIGUSR1, lambda *_: mark.append(time.monotonic() - t0))
    ready()

    def emit(data):
        nonlocal errors
        try:
            s.sendto(data, (host, port))
        except OSError:
            errors += 1  # no route, blocked, or buffer full during the event

    def wait_until(due):
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return time.monotonic() - due

    for i in range(n):
        late = max(late, wait_until(t0 + i * PERIOD))
        emit(RTP.pack(0x80, pt, i & 0xFFFF, (i * 160) & 0xFFFFFFFF, SSRC) + SENT_AT.pack(time.monotonic_ns()) + pad)
    for k in range(3):  # RTP time: this report's send time, as RFC 3550 says; NTP time unused
        wait_until(t0 + n * PERIOD + k * 0.1)
        emit(SR.pack(0x80, 200, 6, SSRC, 0, ((n + 5 * k) * 160) & 0xFFFFFFFF, n, n * len(pad)))
    print(json.dumps({"sent": n, "send_errors": errors, "late_ms_max": round(late * 1000, 1),
                      "mark_s": round(mark[0], 3) if mark else None, "t0_mono": round(t0, 6)}), flush=True)


def unwrap(seq, top):
    """The 16-bit sequence number extended to the value nearest the highest one seen so far."""
    if top < 0:
        return seq
    ext = (top & ~0xFFFF) | seq
    if ext - top > 0x8000:
        ext -= 0x10000
    elif top - ext > 0x8000:
        ext += 0x10000
    return ext


def percentile(xs, p):
    """Nearest-rank percentile of a sorted list."""
    return xs[min(len(xs) - 1, max(0, int(-(-p * len(xs) // 100)) - 1))] if xs else None


def loss_runs(got, total):
    runs = []
    for i in range(total):
        if i not in got:
            if runs and runs[-1][0] + runs[-1][1] == i:
                runs[-1][1] += 1
            else:
                runs.append([i, 1])
    return runs


def recv(addr, port, secs, out, grace=1.0, until_idle=None, first_timeout=60.0, drop_from=None, drop_for=0.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((addr, port))
    ready()
    start = time.monotonic()
    first = last_rx = end_at = reported = None
    got, delays, dup, reorder, top = set(), [], 0, 0, -1
    max_gap, gap_at = 0.0, 0.0

    def arrival(rx):  # the gap since the previous delivery
        nonlocal last_rx, max_gap, gap_at
        if last_rx is not None and rx - last_rx > max_gap:
            max_gap, gap_at = rx - last_rx, last_rx - first
        last_rx = rx

    while True:
        now = time.monotonic()
        if first is None:
            deadline = start + first_timeout
        else:
            deadline = first + secs + grace
            if end_at is not None:
                deadline = min(deadline, end_at + 0.1)
            if until_idle:
                deadline = min(deadline, (last_rx or first) + until_idle)
        if now >= deadline:
            break
        if not select.select([s], [], [], deadline - now)[0]:
            continue
        data = s.recv(65536)
        rx_ns = time.monotonic_ns()
        rx = rx_ns / 1e9
        if first is None:
            first = rx
        if drop_from is not None and drop_from <= rx - first < drop_from + drop_for / 1000:
            continue
        if len(data) < 2 or data[0] >> 6 != 2:
            continue
        if data[1] == 200 and len(data) >= SR.size:  # the end report
            if end_at is None:
                _, _, _, _, _, rtp_time, reported, _ = SR.unpack_from(data)
                end_at = rx
                # a later report stands for the packet after the last as if it were the first report
                arrival(rx - ((rtp_time - reported * 160) & 0xFFFFFFFF) // 160 * PERIOD)
            continue
        if len(data) < RTP.size + SENT_AT.size:
            continue
        seq = unwrap(RTP.unpack_from(data)[2], top)
        if seq in got:
            dup += 1
            continue
        if seq < top:
            reorder += 1
        top = max(top, seq)
        got.add(seq)
        delays.append((rx_ns - SENT_AT.unpack_from(data, RTP.size)[0]) / 1e6)
        if end_at is None:
            arrival(rx)
    expected = reported if reported is not None else top + 1
    delays.sort()
    res = {"sent_expected": expected, "packets": expected, "received": len(got), "lost": expected - len(got & set(range(expected))),
           "duplicated": dup, "reordered": reorder,
           "interruption_ms": round(max(0.0, max_gap - PERIOD) * 1000, 1) if first else None,
           "gap_at_s": round(gap_at, 3), "delay_ms_median": round(percentile(delays, 50), 3) if delays else None,
           "delay_ms_p99": round(percentile(delays, 99), 3) if delays else None,
           "loss_runs": loss_runs(got, expected), "end_report": reported is not None,
           "first_rx_mono": round(first, 6) if first else None,
           "secs": round((last_rx or first) - first, 3) if first else 0.0}
    if first is None:
        res["error"] = f"nothing received in {first_timeout} s"
    with open(out, "w") as f:
        json.dump(res, f)


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
        return
    if len(sys.argv) < 2 or sys.argv[1] != "recv":
        sys.exit(__doc__)
    ap = argparse.ArgumentParser(prog="rtpstream.py recv")
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("secs", type=float)
    ap.add_argument("out")
    ap.add_argument("--grace", type=float, default=1.0)
    ap.add_argument("--until-idle", type=float)
    ap.add_argument("--first-timeout", type=float, default=60.0)
    ap.add_argument("--drop-from", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--drop-for", type=float, default=0.0, help=argparse.SUPPRESS)
    a = ap.parse_args(sys.argv[2:])
    recv(a.addr, a.port, a.secs, a.out, a.grace, a.until_idle, a.first_timeout, a.drop_from, a.drop_for)


if __name__ == "__main__":
    main()
