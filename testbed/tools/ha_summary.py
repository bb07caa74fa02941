#!/usr/bin/env python3
"""ha_summary.py RUNS OUT.json MISSES SCALE: the ha benchmark's JSON from its per-run lines (RUNS:
"interval kind max_gap_ms probe_lost ping_lost replay_errors activate_ms steer_ms"; SCALE: "count
import_s takeover_s activated N failed M activate_ms A steer_ms S")."""
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def col(rs, i): return [float(r[i]) for r in rs if len(r) > i]
def summ(v): return {"n": len(v), "median": statistics.median(v) if v else None, "max": max(v) if v else None}
plain = [r for r in rows if r[1] == "plain"]
at20 = [r for r in plain if r[0] == "20"]
res = {
    "heartbeat_misses": int(sys.argv[3]),
    "failover_ms": statistics.median(col(at20, 2)) if at20 else None,
    "failover_ms_at_20ms": summ(col(at20, 2)),
    "failover_ms_by_interval": {ms: summ(col([r for r in plain if r[0] == ms], 2)) for ms in ["10", "20", "50", "100", "1000"]},
    "failover_lost_50pps": statistics.median(col(at20, 4)) if at20 else None,
    "failover_lost_50pps_by_interval": {ms: summ(col([r for r in plain if r[0] == ms], 4)) for ms in ["10", "20", "50", "100", "1000"]},
    "failover_eu_replay_errors": int(sum(col(rows, 5))),
    "flood_run": {"max_gap_ms": col([r for r in rows if r[1] == "flood"], 2), "replay_errors": col([r for r in rows if r[1] == "flood"], 5)},
    "activate_ms": summ(col(rows, 6)),
    "steer_ms": summ(col(rows, 7)),
    "takeover_1k_s": None,
    "takeover_10k_s": None,
    "takeover_scale": [],
    "runs": [dict(zip(["interval_ms", "kind", "max_gap_ms", "probe_lost", "ping_lost", "replay_errors", "activate_ms", "steer_ms"], r)) for r in rows],
}
# scale lines: count import_s takeover_s activated N failed M activate_ms A steer_ms S
for l in open(sys.argv[4]):
    f = l.split()
    if len(f) < 11:
        continue
    row = {"vpns": int(f[0]), "import_passive_s": float(f[1]), "takeover_s": float(f[2]), "activated": int(f[4]),
           "failed": int(f[6]), "activate_ms": int(f[8]), "steer_ms": int(f[10]), "live_eus": 1}
    res["takeover_scale"].append(row)
    if row["vpns"] == 1000: res["takeover_1k_s"] = row["takeover_s"]
    if row["vpns"] == 10000: res["takeover_10k_s"] = row["takeover_s"]
json.dump(res, open(sys.argv[2], "w"), indent=2)
print(json.dumps(res, indent=2))
