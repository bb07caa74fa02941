#!/usr/bin/env python3
"""check_quick.py RUNS_DIR: the quick mode's sanity checks (./tests/run, test experiment_quick):
every planned run has a record; with no event nothing is lost and the UDP stream has no
interruption, its MOS is the E-model's for that codec without loss, the TCP download arrives whole; the forced 500 ms outage
measures 500 +- 30 ms; a Traffic Management move and a failover keep the EU's IKE_SA and cause no
replay drop. Prints each check; exits 1 on the first that fails."""
import glob, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emodel  # noqa: E402


def check(what, ok, got):
    print(("ok: " if ok else "FAIL: ") + f"{what} ({got})")
    if not ok:
        sys.exit(1)


def main(runs_dir):
    recs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(runs_dir, "*.json")))]
    check("records", len(recs) >= 6, f"{len(recs)} runs")
    by = lambda scen, proto: [r for r in recs if r["scenario"] == scen and r["proto"] == proto]
    # A stall of the emulated machine on a loaded host (seen: 250 ms while ctest ran host tests
    # beside the VM) can cost the paced sender one packet; more than one is a fault.
    for r in by("none", "udp"):
        check("no event, UDP: nothing lost (one packet at most)", r["lost"] <= 1,
              f"lost {r['lost']}, longest arrival gap {r.get('gap_ms')} ms, sender {r.get('sender')}")
        check("no event, UDP: no interruption (one packet at most)", r["interruption_ms"] <= 20,
              f"{r['interruption_ms']} ms")
        clean = emodel.run_quality([], r.get("delay_ms_median", 0), emodel.codec_for_kbps(r["kbps"]))["mos"]
        check("no event: the E-model's baseline MOS is its MOS without loss", abs(r["mos_baseline"] - clean) < 0.01,
              f"baseline {r['mos_baseline']}, E-model {clean:.2f}")
        if r["lost"] == 0:
            check("no event, UDP: the run's MOS is the baseline", r["mos"] == r["mos_baseline"], r["mos"])
    for r in by("none", "tcp"):
        want = r["kbps"] * 1000 // 8 * r["stream_s"]
        check("no event, TCP: the whole download arrived", abs(r["bytes"] - want) <= want // 50,
              f"{r['bytes']} of {want} bytes")
    for r in by("outage", "udp"):
        check("forced 500 ms outage measures 500 +- 30 ms", abs(r["interruption_ms"] - 500) <= 30,
              f"{r['interruption_ms']} ms, lost {r['lost']}")
    moves = [r for r in recs if r["scenario"] in ("tm", "ha_kill", "ha_link", "drain")]
    check("moves and failovers ran", len(moves) >= 2, f"{len(moves)} runs")
    for r in moves:
        what = f"{r['scenario']}/{r['proto']}"
        check(f"{what}: the EU kept its IKE_SA", r["eu_kept_ike_sa"] and r["eu_new_ike_sas"] == 0,
              f"kept {r['eu_kept_ike_sa']}, new {r['eu_new_ike_sas']}")
        check(f"{what}: no replay drop at the EU", r["eu_replay_errors"] == 0, r["eu_replay_errors"])
        check(f"{what}: the stream continued", r["interruption_ms"] < r["stream_s"] * 1000 / 2,
              f"interruption {r['interruption_ms']} ms")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
