#!/usr/bin/env python3
"""plan.py CONFIG RUNS_DIR: the experiment's runs still to do, one per line, grouped so that the
test bed restarts as rarely as possible (one cluster per system and heartbeat interval, one tunnel
per cipher) and the samples of the cells in a group interleave (slow drift of a shared machine
spreads over every cell instead of biasing one):

    KEY SCENARIO SYSTEM PROTO CIPHER KBPS HEARTBEAT_MS STREAM_S

A run is done when RUNS_DIR/KEY.json exists, so an interrupted experiment resumes where it
stopped. `plan.py --count CONFIG RUNS_DIR` prints "DONE TOTAL".

The config is INI: [experiment] settings (read by the engine) and [cells], one cell group per
line, NAME = SCENARIO SYSTEM PROTOS CIPHERS KBPS HEARTBEAT_MS SAMPLES [stream_s=N]
(comma lists; "-" for no heartbeat; HEARTBEAT_MSxM, e.g. 500x2: M misses, 2..100, instead of
[experiment] misses, and run keys ending in hb500x2). With ELASTIC_EXPERIMENT_CELLS=NAME,... only
those cell groups count (a long experiment in parts: `testbed/experiment/run --cells ...`)."""
import configparser, itertools, os, sys

SCENARIOS = {"none", "outage", "tm", "drain", "ha_kill", "ha_link"}
SYSTEMS = {"elastic", "dpd_reconnect", "redirect", "strongswan_ha"}
PROTOS, CIPHERS, RATES = {"udp", "tcp"}, {"cbc", "ctr", "gcm"}, {8, 48, 96}


class ConfigError(Exception):
    pass


def cells(path):
    cp = configparser.ConfigParser(inline_comment_prefixes=("#",))
    if not cp.read(path):
        raise ConfigError(f"{path}: cannot read")
    if not cp.has_section("cells"):
        raise ConfigError(f"{path}: no [cells] section")
    stream_s = cp.getint("experiment", "stream_s", fallback=8)
    only = [c for c in os.environ.get("ELASTIC_EXPERIMENT_CELLS", "").split(",") if c]
    for c in only:
        if not cp.has_option("cells", c):
            raise ConfigError(f"{path}: no cell group '{c}'")
    for name, line in cp.items("cells"):
        if only and name not in only:
            continue
        f = line.split()
        if len(f) not in (7, 8):
            raise ConfigError(f"{path}: cell {name}: expected SCENARIO SYSTEM PROTOS CIPHERS KBPS HEARTBEAT_MS SAMPLES [stream_s=N]")
        scen, system, protos, ciphers, rates, hb, samples = f[:7]
        check(name, "scenario", [scen], SCENARIOS)
        check(name, "system", [system], SYSTEMS)
        check(name, "proto", protos.split(","), PROTOS)
        check(name, "cipher", ciphers.split(","), CIPHERS)
        check(name, "kbps", [int(r) if r.isdigit() else r for r in rates.split(",")], RATES)
        if hb != "-" and not heartbeat_ok(hb):
            raise ConfigError(f"{path}: cell {name}: heartbeat_ms '{hb}' (10..10000, optionally xMISSES 2..100, or -)")
        if not samples.isdigit() or not 1 <= int(samples) <= 1000:
            raise ConfigError(f"{path}: cell {name}: samples '{samples}' (1..1000)")
        secs = stream_s
        if len(f) == 8:
            k, _, v = f[7].partition("=")
            if k != "stream_s" or not v.isdigit() or not 4 <= int(v) <= 300:
                raise ConfigError(f"{path}: cell {name}: '{f[7]}' (expected stream_s=4..300)")
            secs = int(v)
        for p, c, r in itertools.product(protos.split(","), ciphers.split(","), rates.split(",")):
            yield dict(scenario=scen, system=system, proto=p, cipher=c, kbps=int(r),
                       hb=hb if hb != "-" else "0", samples=int(samples), stream_s=secs)


def heartbeat_ok(hb):
    """INTERVAL_MS or INTERVAL_MSxMISSES."""
    interval, x, misses = hb.partition("x")
    return interval.isdigit() and 10 <= int(interval) <= 10000 and (
        not x or (misses.isdigit() and 2 <= int(misses) <= 100))


def check(name, what, values, allowed):
    for v in values:
        if v not in allowed:
            raise ConfigError(f"cell {name}: unknown {what} '{v}' (one of {', '.join(sorted(map(str, allowed)))})")


def key(c, i):
    return f"{c['scenario']}-{c['system']}-{c['proto']}-{c['cipher']}-{c['kbps']}-hb{c['hb']}-{i:02d}"


def runs(path):
    cs = list(cells(path))
    order = {}
    for c in cs:  # groups in the order of their first appearance in the config
        order.setdefault((c["system"], c["hb"], c["cipher"]), len(order))
    out = []
    for g in sorted(order, key=order.get):
        group = [c for c in cs if (c["system"], c["hb"], c["cipher"]) == g]
        for i in range(1, max(c["samples"] for c in group) + 1):
            out += [(key(c, i), c) for c in group if i <= c["samples"]]
    return out


def main(argv):
    count = argv[1:2] == ["--count"]
    args = argv[2:] if count else argv[1:]
    if len(args) != 2:
        sys.exit(__doc__.split("\n\n")[0])
    try:
        todo = runs(args[0])
    except (ConfigError, ValueError) as e:
        sys.exit(f"plan.py: {e}")
    done = [k for k, _ in todo if os.path.exists(os.path.join(args[1], k + ".json"))]
    if count:
        print(len(done), len(todo))
        return
    for k, c in todo:
        if k not in done:
            print(k, c["scenario"], c["system"], c["proto"], c["cipher"], c["kbps"], c["hb"], c["stream_s"])


if __name__ == "__main__":
    main(sys.argv)
