#!/usr/bin/env python3
"""record.py OUT.json STREAM.json SENDER.json COUNTERS.json STEPS_JSON KEY=VALUE...: one run's record (the
schema is in docs/results/README.md): the run's parameters (KEY=VALUE, numbers where they look
like numbers), what the stream's receiver measured, the counters around it, the system's own
step timings (STEPS_JSON, a JSON text), and the E-model's figures (emodel.annotate). Written
atomically: a run is done (plan.py) once its file exists. A run whose stream or event failed
(its receiver wrote no result, STEPS_JSON has "event_error") goes to KEY.error.json instead."""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emodel  # noqa: E402

SPACING_MS = 20  # the audio stream's packet (and TCP write) interval


def value(v):
    try:
        return int(v)
    except ValueError:
        return {"null": None, "true": True, "false": False}.get(v, v)


def settle_tail(s, sent):
    """When the receiver saw none of the RTCP end reports (the path was still down at the end),
    it only knows the highest sequence number: the sender's own count adds the lost tail."""
    if s.get("end_report") or not sent or sent <= s["packets"]:
        return s
    s["loss_runs"] = s["loss_runs"] + [[s["packets"], sent - s["packets"]]]
    s["lost"] += sent - s["packets"]
    s["packets"] = s["sent_expected"] = sent
    return s


def stream_fields(proto, s):
    """The stream's result in the record's terms. UDP: the interruption is the audio that never
    arrived, the longest run of lost packets on the sender's 20 ms timeline (a quiet run is 0
    however much the emulated machine's scheduling jitters); the longest time between arrivals
    beyond the spacing is kept as gap_ms. TCP loses nothing the application sees: its
    interruption is the receiver's longest stall beyond the write interval."""
    if "error" in s:
        return {"error": s["error"]}
    if proto == "udp":
        keep = ("lost", "received", "duplicated", "reordered", "gap_at_s", "delay_ms_median", "delay_ms_p99",
                "loss_runs", "packets")
        out = {k: s[k] for k in keep if k in s}
        out["interruption_ms"] = SPACING_MS * max([n for _, n in s["loss_runs"]], default=0)
        out["gap_ms"] = s["interruption_ms"]
        return out
    stall = max(0.0, s["max_gap_ms"] - SPACING_MS)
    return {"lost": 0, "duplicated": 0, "reordered": 0, "interruption_ms": stall, "tcp_stall_ms": stall,
            "max_gap_ms": s["max_gap_ms"], "gap_at_s": s["gap_at_s"], "bytes": s["bytes"],
            "tcp_ended": s.get("ended", "eof")}


def main(argv):
    if len(argv) < 6:
        sys.exit(__doc__)
    out, stream, sender, counters, steps = argv[1:6]
    rec = {k: value(v) for k, _, v in (a.partition("=") for a in argv[6:])}
    s = json.load(open(stream))
    snd = json.load(open(sender)) if rec["proto"] == "udp" and os.path.getsize(sender) else {}
    if snd:  # whether the sender itself fell behind or failed to send (a stalled machine)
        rec["sender"] = {k: snd.get(k) for k in ("sent", "send_errors", "late_ms_max")}
    if rec["proto"] == "udp" and "error" not in s:
        s = settle_tail(s, snd.get("sent"))
    rec.update(stream_fields(rec["proto"], s))
    rec.update(json.load(open(counters)))
    rec["steps"] = json.loads(steps or "{}")
    if rec["steps"].get("event_error"):
        rec["error"] = rec["steps"]["event_error"]
    if "error" in rec:
        # not a result: kept beside the runs for a look, and the run is done again on a resume
        out = out[: -len(".json")] + ".error.json"
    else:
        emodel.annotate(rec)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(rec, f, indent=1, sort_keys=True)
    os.replace(tmp, out)


if __name__ == "__main__":
    main(sys.argv)
