"""The paper's factor question for our own system: do the cipher and the bit rate change the
interruption of a move (tm) or a failover (ha_kill)? The paper found no effect of either. Here:
one figure with a box per scenario/cipher/bit rate, and per scenario and proto a Kruskal-Wallis
test across the ciphers (at 48 kbps) and across the bit rates (ciphers pooled). Kruskal-Wallis
compares ranks, so it needs no normal distribution (interruptions come in whole packets and have
long tails); with two groups it is the two-sided Mann-Whitney U test. Runs at the heartbeat most
of the failover runs used, so that detection is the same for every box."""
import math
from collections import Counter
from statistics import median

SCENARIOS = ("tm", "ha_kill")
ALPHA = 0.05


def chi2_sf(x, df):
    """P(X >= x) for X chi-square with integer df >= 1 (closed forms; no scipy on the test VM)."""
    if x <= 0:
        return 1.0
    h = x / 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, df // 2):
            term *= h / i
            total += term
        return math.exp(-h) * total
    term, total = math.sqrt(2 * x / math.pi), 0.0
    for i in range(1, (df - 1) // 2 + 1):
        total += term
        term *= x / (2 * i + 1)
    return math.erfc(math.sqrt(h)) + math.exp(-h) * total


def kruskal(groups):
    """(H, df, p) of the Kruskal-Wallis test (ties: mid-ranks and the tie correction), or None
    with fewer than two groups of data or no variation at all."""
    groups = [list(g) for g in groups if g]
    if len(groups) < 2:
        return None
    pooled = sorted(v for g in groups for v in g)
    n = len(pooled)
    rank, ties, i = {}, 0.0, 0
    while i < n:
        j = i
        while j < n and pooled[j] == pooled[i]:
            j += 1
        rank[pooled[i]] = (i + j + 1) / 2  # mid-rank of positions i+1..j
        ties += (j - i) ** 3 - (j - i)
        i = j
    correction = 1 - ties / (n ** 3 - n)
    if correction <= 0:
        return None
    h = 12 / (n * (n + 1)) * sum(sum(rank[v] for v in g) ** 2 / len(g) for g in groups) - 3 * (n + 1)
    h /= correction
    df = len(groups) - 1
    return h, df, chi2_sf(h, df)


def selection(records):
    """Our system's tm and ha_kill runs at the heartbeat most failover runs used."""
    ours = [r for r in records if r["system"] == "elastic" and r["scenario"] in SCENARIOS]
    hbs = Counter(r.get("heartbeat") for r in ours if r["scenario"] == "ha_kill")
    hb = hbs.most_common(1)[0][0] if hbs else None
    return [r for r in ours if r.get("heartbeat") == hb], hb


def by(records, field, **where):
    """{value of field: [interruption_ms]} of the records matching where, values sorted."""
    out = {}
    for r in records:
        if all(r[k] == v for k, v in where.items()) and r.get("interruption_ms") is not None:
            out.setdefault(r[field], []).append(float(r["interruption_ms"]))
    return dict(sorted(out.items()))


def common_ciphers(records, **where):
    """The ciphers run at every bit rate (a cipher run at one rate only would bias that rate)."""
    rates = {}
    for r in records:
        if all(r[k] == v for k, v in where.items()):
            rates.setdefault(r["cipher"], set()).add(r["kbps"])
    every = set().union(*rates.values()) if rates else set()
    return sorted(c for c, ks in rates.items() if ks == every)


def tests(records):
    """Rows: scenario, proto, factor, {level: (median, n)}, (H, df, p) or None."""
    rows = []
    for scen in SCENARIOS:
        for proto in ("udp", "tcp"):
            ciphers = common_ciphers(records, scenario=scen, proto=proto)
            pooled = [r for r in records if r["cipher"] in ciphers]
            rate = "bit rate (" + ", ".join(c.replace("aes128-", "") for c in ciphers) + ")"
            for factor, groups in (("cipher at 48 kbps", by(records, "cipher", scenario=scen, proto=proto, kbps=48)),
                                   (rate, by(pooled, "kbps", scenario=scen, proto=proto))):
                if groups:
                    rows.append((scen, proto, factor, {k: (median(v), len(v)) for k, v in groups.items()},
                                 kruskal(groups.values())))
    return rows


def text(records):
    """Markdown: the table of medians and tests, and a neutral paragraph."""
    sel, hb = selection(records)
    rows = tests(sel)
    if not rows:
        return "No runs of tm or ha_kill.\n"
    md = ["| scenario | proto | factor | median ms (n) per level | Kruskal-Wallis H (df), p |", "|---|---|---|---|---|"]
    effects = []
    for scen, proto, factor, levels, kw in rows:
        lv = ", ".join(f"{k}: {m:.0f} ({n})" for k, (m, n) in levels.items())
        res = f"{kw[0]:.2f} ({kw[1]}), {kw[2]:.3f}" if kw else "–"
        md.append(f"| {scen} | {proto} | {factor} | {lv} | {res} |")
        if kw and kw[2] < ALPHA:
            effects.append(f"{scen}/{proto} by {factor} (p = {kw[2]:.3f})")
    tested = sum(1 for row in rows if row[4])
    para = (f"Runs of elastic-ipsec at heartbeat {hb or '-'} (interval ms x misses). Of {tested} tests, "
            + (f"{len(effects)} found a difference at the 5 % level: " + "; ".join(effects) + "."
               if effects else "none found a difference at the 5 % level.")
            + " At the 5 % level about one test in twenty finds a difference by chance; with 5 runs per"
            " level the p-values (chi-square approximation) are rough.")
    return "\n".join(md) + "\n\n" + para + "\n"


def figure(records, path):
    """Boxes of the interruption per scenario/cipher/bit rate, UDP above TCP. False without runs."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sel, hb = selection(records)
    if not sel:
        return False
    fig, axes = plt.subplots(2, 1, figsize=(10, 7))
    for ax, proto in zip(axes, ("udp", "tcp")):
        cells = {}
        for r in sorted(sel, key=lambda r: (SCENARIOS.index(r["scenario"]), r["cipher"], r["kbps"])):
            if r["proto"] == proto and r.get("interruption_ms") is not None:
                cells.setdefault((r["scenario"], r["cipher"], r["kbps"]), []).append(r["interruption_ms"])
        if not cells:
            ax.set_visible(False)
            continue
        bp = ax.boxplot(list(cells.values()), patch_artist=True)
        colors = {"tm": "tab:blue", "ha_kill": "tab:orange"}
        for b, k in zip(bp["boxes"], cells):
            b.set(facecolor=colors[k[0]], alpha=0.5)
        for line in bp["medians"]:
            line.set(color="black")
        ax.set_xticks(range(1, len(cells) + 1))
        ax.set_xticklabels([f"{s}\n{c.replace('aes128-', '')}\n{k} kbps\nn={len(v)}" for (s, c, k), v in cells.items()],
                           fontsize=7)
        ax.set_ylabel("interruption (ms)")
        ax.set_title(f"{proto.upper()}: elastic-ipsec by cipher and bit rate (heartbeat {hb or '-'})", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
