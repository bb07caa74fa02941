#!/usr/bin/env python3
"""The ITU-T G.107 (06/2015) E-model: speech quality (R, MOS) of a stream from its packet loss and
delay, in place of POLQA (licensed), which the paper used.

  emodel.py [--ppl PCT] [--burstr B] [--codec NAME] [--delay-ms TA]   prints {"R": .., "MOS": ..}

R = Ro - Is - Id - Ie,eff + A (G.107 clause 7). Every parameter but Ta, Ie, Bpl, Ppl and BurstR
keeps its G.107 default (Table 1): Ro and Is follow from them, and with T = Tr = 0 (no echo: the
test bed's end points are not telephones) Idte = 0 and Idle is its default 0.15, so R = 93.2 with
G.711 and no loss. Id grows with Ta only through Idd, which is 0 up to mT = 100 ms (the default
delay sensitivity, mT = 100 ms, sT = 1, for conversational telephony).

Codecs (Ie, Bpl from ITU-T G.113 Appendix I, Tables I.1 and I.3; 20 ms packets, 50 packets/s):
  g729a    G.729A + VAD, 8 kbit/s: Ie 11, Bpl 19.0. Our 8 kbps stream.
  g711plc  G.711 with packet loss concealment: Ie 0, Bpl 25.1.
  g711     G.711 without concealment: Ie 0, Bpl 4.3 (the G.107 default Bpl).
ASSUMPTION: G.113 lists no narrowband codec at 48 or 96 kbit/s (the paper's other rates), and the
E-model has no bit-rate input. We rate those streams as G.711 with concealment: a toll-quality
codec (Ie 0) that hides short losses. Both rates therefore score the same, as the paper found
(no effect of the bit rate).

Ta is the one-way network delay measured by the stream (codec and jitter-buffer delay are not
added: they do not change R while Ta stays below 100 ms, where Idd = 0)."""
import argparse, json, math

# G.107 Table 1 default values (dB, dBm0p, dB(A), ms).
DEFAULTS = dict(SLR=8.0, RLR=2.0, STMR=15.0, LSTR=18.0, Ds=3.0, Dr=3.0, TELR=65.0, WEPL=110.0,
                T=0.0, Tr=0.0, Ta=0.0, qdu=1.0, Ie=0.0, Bpl=4.3, Ppl=0.0, BurstR=1.0,
                Nc=-70.0, Nfor=-64.0, Ps=35.0, Pr=35.0, A=0.0, mT=100.0, sT=1.0)

CODECS = {"g729a": dict(Ie=11.0, Bpl=19.0), "g711plc": dict(Ie=0.0, Bpl=25.1), "g711": dict(Ie=0.0, Bpl=4.3)}
PACKET_MS = 20
PPS = 1000 // PACKET_MS


def codec_for_kbps(kbps):
    """Our streams' codec: G.729A at 8 kbps, G.711 with concealment otherwise (see the docstring)."""
    return "g729a" if int(kbps) == 8 else "g711plc"


def _db_sum(*levels):
    return 10 * math.log10(sum(10 ** (x / 10) for x in levels))


def idd(ta, mT=100.0, sT=1.0):
    """Impairment of the absolute delay Ta (ms): 0 up to mT, then the G.107 formula (clause 7.4)."""
    if ta <= mT:
        return 0.0
    x, e = math.log10(ta / mT) / math.log10(2), 6 * sT
    return 25 * ((1 + x ** e) ** (1 / e) - 3 * (1 + (x / 3) ** e) ** (1 / e) + 2)


def ie_eff(ie, bpl, ppl, burst_r=1.0):
    """Effective equipment impairment (G.107 clause 7.5), Ppl in percent. Capped at 95 (our guard): with
    a long burst (BurstR >> 1) and Ppl > Bpl the formula passes 95, the model's total-loss end."""
    return min(95.0, ie + (95 - ie) * ppl / (ppl / burst_r + bpl))


def rating(**params):
    """All the E-model's terms for the given parameters (G.107 names; others at default)."""
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown E-model parameters: {sorted(unknown)}")
    p = {**DEFAULTS, **params}
    olr = p["SLR"] + p["RLR"]
    # Ro: basic signal-to-noise ratio, from the circuit, room and receive-side noise.
    nos = p["Ps"] - p["SLR"] - p["Ds"] - 100 + 0.004 * (p["Ps"] - olr - p["Ds"] - 14) ** 2
    pre = p["Pr"] + 10 * math.log10(1 + 10 ** ((10 - p["LSTR"]) / 10))
    nor = p["RLR"] - 121 + pre + 0.008 * (pre - 35) ** 2
    no = _db_sum(p["Nc"], nos, nor, p["Nfor"] + p["RLR"])
    ro = 15 - 1.5 * (p["SLR"] + no)
    # Is: loudness, sidetone and quantizing distortion.
    xolr = olr + 0.2 * (64 + no - p["RLR"])
    iolr = 20 * ((1 + (xolr / 8) ** 8) ** (1 / 8) - xolr / 8)
    stmro = -10 * math.log10(10 ** (-p["STMR"] / 10) + math.exp(-p["T"] / 4) * 10 ** (-p["TELR"] / 10))
    ist = (12 * (1 + ((stmro - 13) / 6) ** 8) ** (1 / 8) - 28 * (1 + ((stmro + 1) / 19.4) ** 35) ** (1 / 35)
           - 13 * (1 + ((stmro - 3) / 33) ** 13) ** (1 / 13) + 29)
    q = 37 - 15 * math.log10(p["qdu"])
    g = 1.07 + 0.258 * q + 0.0602 * q ** 2
    iq = 15 * math.log10(1 + 10 ** ((ro - 100) / 15 + 46 / 8.4 - g / 9) + 10 ** (46 / 30 - g / 40))
    is_ = iolr + ist + iq
    # Id: talker echo (0 without echo path delay T), listener echo, absolute delay.
    terv = p["TELR"] - 40 * math.log10((1 + p["T"] / 10) / (1 + p["T"] / 150)) + 6 * math.exp(-0.3 * p["T"] ** 2)
    if p["STMR"] < 9:
        terv += ist / 2
    roe, re = -1.5 * (no - p["RLR"]), 80 + 2.5 * (terv - 14)
    idte = 0.0 if p["T"] < 1 else ((roe - re) / 2 + math.sqrt((roe - re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-p["T"]))
    rle = 10.5 * (p["WEPL"] + 7) * (p["Tr"] + 1) ** -0.25
    idle = (ro - rle) / 2 + math.sqrt((ro - rle) ** 2 / 4 + 169)
    id_dd = idd(p["Ta"], p["mT"], p["sT"])
    ief = ie_eff(p["Ie"], p["Bpl"], p["Ppl"], p["BurstR"])
    r = ro - is_ - (idte + idle + id_dd) - ief + p["A"]
    return dict(R=r, Ro=ro, Is=is_, Id=idte + idle + id_dd, Idte=idte, Idle=idle, Idd=id_dd, Ie_eff=ief, A=p["A"])


def mos(r):
    """MOS (conversational quality, estimated) from R: G.107 Annex B, clamped to [1, 4.5]."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return min(4.5, max(1.0, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6))


def burst_ratio(lost_flags):
    """BurstR of a loss pattern (send order, True = lost) by the 2-state Markov model of G.107:
    p = P(lost | previous received), q = P(received | previous lost), BurstR = 1 / (p + q)
    (1: random loss; > 1: bursty). The pattern is framed by one received packet on either side (the
    call goes on around the measured window), so that a burst at either end has an entry and an
    exit and a burst's BurstR does not depend on where it lies. Degenerate cases: no loss -> 1;
    no received packet -> inf (Ie,eff then reaches its cap, 95)."""
    flags = [bool(x) for x in lost_flags]
    if not any(flags):
        return 1.0
    if all(flags):
        return math.inf
    framed = [False] + flags + [False]
    n = {(a, b): 0 for a in (False, True) for b in (False, True)}
    for a, b in zip(framed, framed[1:]):
        n[a, b] += 1
    p = n[False, True] / (n[False, False] + n[False, True])
    q = n[True, False] / (n[True, False] + n[True, True])
    return 1 / (p + q)


def expand_runs(runs, total):
    """Lost flags (send order) from [[first_lost_seq, count], ...] runs of a stream of total packets."""
    flags = [False] * total
    for first, count in runs or []:
        for i in range(first, min(first + count, total)):
            flags[i] = True
    return flags


def run_quality(lost_flags, delay_ms, codec, total_packets=None):
    """R and MOS (keys r, mos; also ppl, burst_r, ie_eff, idd) of a stream: its loss pattern, padded with received packets up to total_packets
    (a longer call with the same losses), its one-way delay and codec."""
    flags = list(lost_flags)
    if total_packets and total_packets > len(flags):
        flags += [False] * (total_packets - len(flags))
    ppl = 100.0 * sum(map(bool, flags)) / len(flags) if flags else 0.0
    br = burst_ratio(flags)
    c = CODECS[codec]
    e = rating(Ta=delay_ms or 0.0, Ie=c["Ie"], Bpl=c["Bpl"], Ppl=ppl, BurstR=br)
    return {"r": e["R"], "mos": mos(e["R"]), "ppl": ppl, "burst_r": br, "ie_eff": e["Ie_eff"], "idd": e["Idd"]}


def _pattern(run):
    """Lost flags of a run record. UDP: its loss_runs over its packets. TCP: the stall counts as
    the loss of the packets a player would have played meanwhile (round(stall_ms / 20) in one burst,
    no playout buffer to hide it), placed mid-stream. Stream length: packets, else stream_s, else 8 s."""
    packets = run.get("packets") or int(round((run.get("stream_s") or 8) * PPS))
    if run.get("proto") == "tcp":
        stall = run.get("tcp_stall_ms")
        if stall is None:
            stall = run.get("interruption_ms") or 0.0
        k = min(packets, int(round(stall / PACKET_MS)))
        start = (packets - k) // 2
        return expand_runs([[start, k]] if k else [], packets)
    if run.get("loss_runs") is None and run.get("lost"):
        return expand_runs([[0, run["lost"]]], packets)  # no pattern recorded: one burst
    return expand_runs(run.get("loss_runs"), packets)


def qos_impact(event_run, baseline_mos, call_s=None):
    """Relative MOS drop (%) of a run record vs baseline_mos (the same stream without the event),
    over a call of call_s seconds at 50 packets/s holding the run's losses (pattern padded with
    received packets; a measured stream longer than the call is taken whole); None: as measured."""
    flags = _pattern(event_run)
    total = max(len(flags), int(round(call_s * PPS))) if call_s else len(flags)
    q = run_quality(flags, event_run.get("delay_ms_median"), codec_for_kbps(event_run["kbps"]), total)
    return 100.0 * (baseline_mos - q["mos"]) / baseline_mos


def annotate(record):
    """Fill mos, mos_baseline, qos_drop_pct_8s and qos_drop_pct_120s of a run record (in place,
    returned). mos is over the stream as measured; the baseline is the same codec and delay with no
    loss; the drops are over an 8 s stream (the paper's) and over a 2 min call."""
    codec, delay = codec_for_kbps(record["kbps"]), record.get("delay_ms_median")
    flags = _pattern(record)
    record["mos"] = round(run_quality(flags, delay, codec)["mos"], 4)
    base = run_quality([], delay, codec)["mos"]
    record["mos_baseline"] = round(base, 4)
    record["qos_drop_pct_8s"] = round(qos_impact(record, base, 8), 3)
    record["qos_drop_pct_120s"] = round(qos_impact(record, base, 120), 3)
    return record


def main():
    ap = argparse.ArgumentParser(description="ITU-T G.107 E-model: R and MOS")
    ap.add_argument("--ppl", type=float, default=0.0, help="packet loss, percent")
    ap.add_argument("--burstr", type=float, default=1.0, help="burst ratio (1: random loss)")
    ap.add_argument("--codec", choices=sorted(CODECS), default="g711")
    ap.add_argument("--delay-ms", type=float, default=0.0, help="one-way (absolute) delay Ta")
    a = ap.parse_args()
    c = CODECS[a.codec]
    e = rating(Ta=a.delay_ms, Ie=c["Ie"], Bpl=c["Bpl"], Ppl=a.ppl, BurstR=a.burstr)
    print(json.dumps({"R": round(e["R"], 2), "MOS": round(mos(e["R"]), 3), "Ie_eff": round(e["Ie_eff"], 2),
                      "Idd": round(e["Idd"], 2)}))


if __name__ == "__main__":
    main()
