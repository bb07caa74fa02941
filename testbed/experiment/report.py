#!/usr/bin/env python3
"""report.py RUNS_DIR OUT_DIR [--paper]: the experiment's summary, figures and report from its run
records (RUNS_DIR/*.json, one object per run, as the engine writes them).

Writes to OUT_DIR:
  summary.json, summary.md   per cell (scenario/proto/cipher/kbps/heartbeat/system): n, median,
                             quartiles, min, max of interruption_ms, lost, qos_drop_pct_8s, _120s
  fig_interruption_{udp,tcp}.png, fig_qos_{udp,tcp}.png, fig_factors.png (factors.py)
                             box-and-whisker plots like the paper's figures 6 and 7, one box per
                             scenario/system/heartbeat (cipher and bit rate pooled: the paper saw no
                             effect of either; summary.md keeps them apart)
  report.md                  machine, commit, command, date, a table per figure, the figures, and
                             per figure a generated neutral paragraph between
                             <!-- paragraph: FIGURE --> and <!-- /paragraph -->, followed by
                             the hand-written one of OUT_DIR/analysis.md ("## FIGURE" sections,
                             "## summary" for the top), which regenerations keep
--paper: mark the paper's values in the figures and compare the medians with them in the text.

A record lacking mos/qos fields is annotated here (annotate, which is emodel.annotate)."""
import argparse, datetime, glob, importlib.util, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emodel  # noqa: E402
import factors  # noqa: E402

annotate = emodel.annotate  # record.py calls report.annotate

KEY = ("scenario", "proto", "cipher", "kbps", "heartbeat", "system")
METRICS = ("interruption_ms", "lost", "qos_drop_pct_8s", "qos_drop_pct_120s")
QOS = ("mos", "mos_baseline", "qos_drop_pct_8s", "qos_drop_pct_120s")
SCENARIOS = ("none", "outage", "tm", "drain", "ha_kill", "ha_link")
# The paper's medians (8 s audio stream; QoS by POLQA): TM = planned move, HA = failover, 1 s heartbeat.
PAPER = {"interruption_ms": {("tm", "udp"): 1330, ("tm", "tcp"): 1700, ("ha", "udp"): 1510, ("ha", "tcp"): 2370},
         "qos_drop_pct_8s": {("tm", "udp"): 27.5, ("tm", "tcp"): 35.0, ("ha", "udp"): 29.75, ("ha", "tcp"): 38.0}}


def paper_value(metric, scenario, proto, system="elastic"):
    """The paper's figure for our system's cell (the paper measured its own TM and HA, not the
    baselines): None for the baselines' cells."""
    if system != "elastic":
        return None
    kind = "ha" if scenario.startswith("ha_") else scenario
    return PAPER.get(metric, {}).get((kind, proto))


def quantile(xs, p):
    """Linear interpolation between the order statistics (numpy's default, Hyndman-Fan type 7)."""
    xs = sorted(xs)
    pos = (len(xs) - 1) * p
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def stats(values):
    xs = [float(v) for v in values if v is not None]
    if not xs:
        return {"n": 0, "median": None, "q1": None, "q3": None, "min": None, "max": None}
    return {"n": len(xs), "median": quantile(xs, 0.5), "q1": quantile(xs, 0.25), "q3": quantile(xs, 0.75),
            "min": min(xs), "max": max(xs)}


def load(runs_dir):
    """The run records, annotated where needed, [file, reason] of those skipped, and [file, error]
    of the failed runs (KEY.error.json: the engine redid them)."""
    records, skipped, failed = [], [], []
    for path in sorted(glob.glob(os.path.join(runs_dir, "*.json"))):
        if path.endswith(".error.json"):
            try:
                with open(path) as f:
                    failed.append([os.path.basename(path), str(json.load(f).get("error"))])
            except (OSError, ValueError, AttributeError) as e:
                skipped.append([os.path.basename(path), str(e)])
            continue
        try:
            with open(path) as f:
                r = json.load(f)
            missing = [k for k in ("scenario", "proto", "cipher", "kbps", "heartbeat_ms", "system", "interruption_ms")
                       if k not in r]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            r["heartbeat"] = heartbeat(r)
            if any(r.get(k) is None for k in QOS):
                emodel.annotate(r)
        except (OSError, ValueError, KeyError, TypeError) as e:
            skipped.append([os.path.basename(path), str(e)])
            continue
        records.append(r)
    return records, skipped, failed


def heartbeat(r):
    """The detection setting of a run, as in the config: "INTERVAL_MSxMISSES" (None without a heartbeat)."""
    hb = r.get("heartbeat_ms")
    if hb is None:
        return None
    return f"{hb}x{r['misses']}" if r.get("misses") is not None else str(hb)


def order(r, fields):
    """Sort key: scenarios in the experiment's order, then the fields as text (None first)."""
    s = r["scenario"]
    return (SCENARIOS.index(s) if s in SCENARIOS else len(SCENARIOS), s) + tuple(
        (r[k] is not None, str(r[k]).zfill(8) if isinstance(r[k], int) else str(r[k]))
        if k != "heartbeat" else heartbeat_order(r) for k in fields if k != "scenario")


def heartbeat_order(r):
    """Without a heartbeat first, then by interval and misses as numbers."""
    hb, misses = r.get("heartbeat_ms"), r.get("misses")
    return (hb is not None, hb or 0, misses if isinstance(misses, int) else 0)


def group(records, fields):
    """{tuple of fields: [records]} in report order."""
    out = {}
    for r in sorted(records, key=lambda r: order(r, fields)):
        out.setdefault(tuple(r[k] for k in fields), []).append(r)
    return out


def summarize(records):
    cells = []
    for key, rs in group(records, KEY).items():
        cell = dict(zip(KEY, key), key="/".join("-" if v is None else str(v) for v in key), n=len(rs))
        cell.update({m: stats(r.get(m) for r in rs) for m in METRICS})
        cells.append(cell)
    return cells


def fmt(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


def summary_md(cells):
    lines = ["| scenario | proto | cipher | kbps | heartbeat ms x misses | system | n | interruption ms median [q1–q3] (min–max) "
             "| lost median (max) | QoS drop 8 s % median [q1–q3] | QoS drop 2 min % median [q1–q3] |",
             "|" + "---|" * 11]
    for c in cells:
        i, lost, d8, d120 = (c[m] for m in METRICS)
        lines.append(f"| {c['scenario']} | {c['proto']} | {c['cipher']} | {c['kbps']} | {c['heartbeat'] or '-'} "
                     f"| {c['system']} | {c['n']} | {fmt(i['median'])} [{fmt(i['q1'])}–{fmt(i['q3'])}] "
                     f"({fmt(i['min'])}–{fmt(i['max'])}) | {fmt(lost['median'], 0)} ({fmt(lost['max'], 0)}) "
                     f"| {fmt(d8['median'])} [{fmt(d8['q1'])}–{fmt(d8['q3'])}] "
                     f"| {fmt(d120['median'], 2)} [{fmt(d120['q1'], 2)}–{fmt(d120['q3'], 2)}] |")
    return "\n".join(lines) + "\n"


FIG_GROUP = ("scenario", "system", "heartbeat")


def label(key):
    scenario, system, hb = key
    return f"{scenario}\n{system}" + (f"\nhb {hb.replace('x', ' ms x ')}" if hb else "")


def figure(records, proto, metric, path, paper):
    """Box plots of one proto's records per scenario/system/heartbeat; metric "interruption_ms" or
    "qos" (the drop over 8 s and over 2 min side by side). Returns the groups drawn."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = group([r for r in records if r["proto"] == proto], FIG_GROUP)
    series = ([("interruption_ms", "interruption", "tab:blue")] if metric == "interruption_ms" else
              [("qos_drop_pct_8s", "8 s stream", "tab:blue"), ("qos_drop_pct_120s", "2 min call", "tab:orange")])
    width = 0.6 / len(series)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(groups) + 1.5), 4.5))
    medians = []
    for j, (m, name, color) in enumerate(series):
        off = (j - (len(series) - 1) / 2) * width
        data = [[r[m] for r in rs if r.get(m) is not None] or [float("nan")] for rs in groups.values()]
        bp = ax.boxplot(data, positions=[i + off for i in range(len(groups))], widths=width * 0.9, patch_artist=True)
        for b in bp["boxes"]:
            b.set(facecolor=color, alpha=0.5)
        for line in bp["medians"]:
            line.set(color="black")
        ax.plot([], [], "s", color=color, alpha=0.5, label=name)
        medians += [stats(d)["median"] for d in data]
    if paper:
        pm = "interruption_ms" if metric == "interruption_ms" else "qos_drop_pct_8s"
        off = 0 if len(series) == 1 else -width / 2
        pts = [(i + off, paper_value(pm, k[0], proto, k[1])) for i, k in enumerate(groups)]
        pts = [(x, y) for x, y in pts if y is not None]
        if pts:
            ax.plot(*zip(*pts), "D", color="tab:red", label="paper" + (" (8 s, POLQA)" if metric != "interruption_ms" else ""))
    positive = [m for m in medians if m and m > 0]
    if metric == "interruption_ms" and positive and max(positive) / min(positive) >= 100:
        ax.set_yscale("symlog", linthresh=10)  # baselines of a few ms next to seconds; symlog keeps zeros
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{label(k)}\nn={len(rs)}" for k, rs in groups.items()], fontsize=8)
    ax.set_ylabel("interruption (ms)" if metric == "interruption_ms" else "MOS drop vs no event (%)")
    what = "interruption" if metric == "interruption_ms" else "speech quality drop (E-model, G.107)"
    ax.set_title(f"{proto.upper()}: {what}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return groups


def figure_text(groups, proto, metric, paper):
    """The figure's table and its neutral paragraph (medians, against the paper's with --paper)."""
    ms = ["interruption_ms"] if metric == "interruption_ms" else ["qos_drop_pct_8s", "qos_drop_pct_120s"]
    unit = "ms" if metric == "interruption_ms" else "%"
    head = "| scenario | system | heartbeat ms x misses | n | " + " | ".join(
        f"{m} median [q1–q3] (min–max)" for m in ms) + (" | paper |" if paper else " |")
    rows = [head, "|" + "---|" * (4 + len(ms) + bool(paper))]
    text = []
    for key, rs in groups.items():
        st = [stats(r.get(m) for r in rs) for m in ms]
        pv = paper_value(ms[0], key[0], proto, key[1])
        rows.append(f"| {key[0]} | {key[1]} | {key[2] or '-'} | {len(rs)} | " + " | ".join(
            f"{fmt(s['median'], 2)} [{fmt(s['q1'], 2)}–{fmt(s['q3'], 2)}] ({fmt(s['min'], 2)}–{fmt(s['max'], 2)})" for s in st)
            + (f" | {pv if pv is not None else '–'} |" if paper else " |"))
        s = st[0]
        line = f"{key[0]}/{key[1]}" + (f" (heartbeat {key[2].replace('x', ' ms x ')})" if key[2] else "") + \
            f": median {fmt(s['median'])} {unit} (quartiles {fmt(s['q1'])}–{fmt(s['q3'])}, {s['n']} runs)"
        if len(ms) > 1:
            line += f", over a 2 min call {fmt(st[1]['median'], 2)} %"
        if paper and pv is not None and s["median"] is not None:
            line += f"; the paper reports {pv} {unit} (ratio {s['median'] / pv:.2f})"
        text.append(line + ".")
    return "\n".join(rows) + "\n", " ".join(text) if text else "No runs."


def steps_table(records):
    """The systems' own timings per scenario/system (medians): which part of an interruption is
    their processing (CPU-bound, inflated by QEMU/TCG) rather than detection or the network."""
    cells = {}
    for r in records:
        for k, v in (r.get("steps") or {}).items():
            if k.endswith("_ms") and isinstance(v, (int, float)) and not isinstance(v, bool):
                cells.setdefault((r["scenario"], r["system"], r.get("heartbeat")), {}).setdefault(k, []).append(v)
    if not cells:
        return []
    rows = ["| scenario | system | heartbeat ms x misses | step: median ms (n) |", "|---|---|---|---|"]
    def key(item):
        (scen, system, hb), _ = item
        interval, _, misses = (hb or "").partition("x")
        return (str(scen), str(system), hb is not None, int(interval or 0), int(misses or 0))

    for (scen, system, hb), ks in sorted(cells.items(), key=key):
        parts = ", ".join(f"{k} {fmt(stats(v)['median'])} ({len(v)})" for k, v in sorted(ks.items()))
        rows.append(f"| {scen} | {system} | {hb or '-'} | {parts} |")
    return ["## Where the time goes: the systems' own step timings", "",
            "From elasticctl's per-step timing of a transfer, the new owner's log line of a takeover "
            "(takeover_ms, of which steer_ms is the steering hook), REDIRECT's time until the target "
            "installed the new CHILD_SA. These steps are CPU-bound: QEMU/TCG emulates the CPU, so they "
            "are several times longer than on hardware; the rest of an interruption is detection "
            "(heartbeat interval x misses, or DPD) and the network.", ""] + rows + [""]


def analysis(out_dir):
    """Hand-written text kept across regenerations: OUT/analysis.md, one "## KEY" section per
    figure (fig_interruption_udp, ...) and "## summary" for the top of the report."""
    path, parts, key = os.path.join(out_dir, "analysis.md"), {}, None
    if not os.path.exists(path):
        return parts
    for line in open(path):
        if line.startswith("## "):
            key = line[3:].strip()
            parts[key] = ""
        elif key:
            parts[key] += line
    return {k: v.strip() for k, v in parts.items()}


def unique(records, field):
    return sorted({str(r[field]) for r in records if r.get(field)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--paper", action="store_true", help="compare with the paper's values")
    a = ap.parse_args()
    if importlib.util.find_spec("matplotlib") is None:
        sys.exit("report.py: needs matplotlib (Debian: apt-get install python3-matplotlib; run it with /usr/bin/python3)")
    os.makedirs(a.out_dir, exist_ok=True)
    records, skipped, failed = load(a.runs_dir)
    cells = summarize(records)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    command = " ".join(["report.py"] + sys.argv[1:])
    summary = {"generated": now, "command": command, "runs": len(records), "skipped": skipped, "failed": failed,
               "commits": unique(records, "commit"), "machines": unique(records, "machine"),
               "paper": {m: {f"{k}/{p}": v for (k, p), v in d.items()} for m, d in PAPER.items()} if a.paper else None,
               "cells": cells}
    with open(os.path.join(a.out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    with open(os.path.join(a.out_dir, "summary.md"), "w") as f:
        f.write(f"# Summary: {len(records)} runs, {len(cells)} cells\n\n" + summary_md(cells))

    started = unique(records, "started")
    md = ["# Elastic IPsec: interruption and speech quality of a moved VPN (issue 12)", "",
          f"- Generated: {now}" + (f"; runs from {started[0]} to {started[-1]}" if started else ""),
          f"- Machine: {'; '.join(unique(records, 'machine')) or 'unknown'}",
          f"- Commit: {', '.join(unique(records, 'commit')) or 'unknown'}",
          f"- Command: {', '.join('`%s`' % c for c in unique(records, 'command')) or 'unknown'}; report: `{command}`",
          f"- Runs: {len(records)}" + (f" ({len(skipped)} skipped, see summary.json)" if skipped else "")
          + (f"; {len(failed)} failed and were run again (" + "; ".join(sorted({e for _, e in failed})) + ")" if failed else ""),
          "- Speech quality: ITU-T G.107 (06/2015) E-model instead of the paper's POLQA; MOS drop relative to "
          "the same stream without loss, over an 8 s stream and over a 2 min call (testbed/experiment/emodel.py).",
          "- Per cell (cipher, bit rate apart): [summary.md](summary.md). Boxes: quartiles and median, whiskers "
          "1.5 IQR, circles outliers" + ("; red diamonds: the paper's values." if a.paper else "."), ""]
    prose = analysis(a.out_dir)
    if prose.get("summary"):
        md += ["## What the figures show", "", prose["summary"], ""]
    n = 0
    for proto in ("udp", "tcp"):
        if not any(r["proto"] == proto for r in records):
            continue
        for metric, name in (("interruption_ms", "interruption"), ("qos", "qos")):
            n += 1
            fig = f"fig_{name}_{proto}"
            groups = figure(records, proto, metric, os.path.join(a.out_dir, fig + ".png"), a.paper)
            table, text = figure_text(groups, proto, metric, a.paper)
            title = "interruption" if metric == "interruption_ms" else "speech quality drop (E-model)"
            md += [f"## Figure {n}: {proto.upper()} {title}", "", f"![{fig}]({fig}.png)", "", table,
                   f"<!-- paragraph: {fig} -->", text, "<!-- /paragraph -->", ""]
            if prose.get(fig):
                md += [prose[fig], ""]
    if factors.figure(records, os.path.join(a.out_dir, "fig_factors.png")):
        md += [f"## Figure {n + 1}: cipher and bit rate (elastic-ipsec)", "", "![fig_factors](fig_factors.png)", "",
               "<!-- paragraph: fig_factors -->", factors.text(records), "<!-- /paragraph -->", ""]
        if prose.get("fig_factors"):
            md += [prose["fig_factors"], ""]
    md += steps_table(records)
    with open(os.path.join(a.out_dir, "report.md"), "w") as f:
        f.write("\n".join(md))
    print(json.dumps({"runs": len(records), "cells": len(cells), "skipped": len(skipped), "out": a.out_dir}))


if __name__ == "__main__":
    main()
