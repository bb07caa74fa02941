#!/usr/bin/env python3
"""placement.py VPN_ID OWNER NAME[=WEIGHT],...: the VPN's alternates, best first, by weighted
rendezvous hashing (docs/syncd.md, Placement). An independent implementation for the tests: it
must agree with common/placement.cpp, which the daemons and the plugin use."""
import math, sys

M = (1 << 64) - 1


def mix(a, b):
    h = 1469598103934665603
    for s in (a, b):
        for c in s.encode():
            h = ((h ^ c) * 1099511628211) & M
        h = ((h ^ 0xFF) * 1099511628211) & M
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & M
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & M
    return h ^ (h >> 31)


def alternates(vpn, owner, members):
    scored = []
    for m in members:
        name, _, w = m.partition("=")
        if name == owner:
            continue
        u = ((mix(vpn, name) >> 11) + 0.5) / 9007199254740992.0
        scored.append((-float(w or 1) / math.log(u), name))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [n for _, n in scored]


if __name__ == "__main__":
    print(" ".join(alternates(sys.argv[1], sys.argv[2], sys.argv[3].split(","))))
