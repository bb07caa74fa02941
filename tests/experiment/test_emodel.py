"""testbed/experiment/emodel.py against ITU-T G.107 (06/2015) reference values and hand-computed
numbers (derivations in the comments)."""
import json, math, os, random, subprocess, sys, unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "testbed", "experiment"))
import emodel  # noqa: E402


class Rating(unittest.TestCase):
    def test_defaults_give_93_2(self):
        e = emodel.rating()
        # G.107: Ro 94.77, Is 1.41, Id 0.15 (Idle alone), Ie,eff 0 -> R 93.2
        self.assertAlmostEqual(e["Ro"], 94.77, places=2)
        self.assertAlmostEqual(e["Is"], 1.41, places=2)
        self.assertAlmostEqual(e["Id"], 0.15, places=2)
        self.assertEqual(e["Idte"], 0.0)
        self.assertAlmostEqual(e["R"], 93.2, delta=0.01)
        q = emodel.run_quality([False] * 400, 0, "g711")
        self.assertAlmostEqual(q["r"], 93.2, delta=0.01)
        self.assertAlmostEqual(q["mos"], 4.41, delta=0.005)

    def test_mos_annex_b(self):
        # 1 + 0.035 R + R (R - 60)(100 - R) 7e-6: R 50 -> 2.575, 60 -> 3.1, 70 -> 3.597, 80 -> 4.024, 90 -> 4.339
        for r, m in [(50, 2.575), (60, 3.1), (70, 3.597), (80, 4.024), (90, 4.339)]:
            self.assertAlmostEqual(emodel.mos(r), m, places=3)
        self.assertEqual(emodel.mos(-5), 1.0)
        self.assertEqual(emodel.mos(5), 1.0)  # the cubic dips below 1 under R 6.5: clamped
        self.assertEqual(emodel.mos(100), 4.5)
        self.assertEqual(emodel.mos(130), 4.5)

    def test_idd(self):
        self.assertEqual(emodel.idd(0), 0.0)
        self.assertEqual(emodel.idd(100), 0.0)
        # Ta 300: X = log2 3 = 1.58496, (1 + X^6)^(1/6) = 1.60120, 3 (1 + (X/3)^6)^(1/6) = 3.01078,
        # 25 (1.60120 - 3.01078 + 2) = 14.76
        self.assertAlmostEqual(emodel.idd(300), 14.76, places=2)
        self.assertAlmostEqual(emodel.rating(Ta=300)["R"], 93.2 - 14.76, delta=0.02)
        self.assertLess(emodel.idd(200), emodel.idd(300))

    def test_ie_eff(self):
        self.assertEqual(emodel.ie_eff(11, 19.0, 0), 11)
        # G.729A, Ppl 2 %, random: 11 + 84 * 2 / (2 + 19) = 19
        self.assertAlmostEqual(emodel.ie_eff(11, 19.0, 2, 1), 19.0, places=9)
        self.assertGreater(emodel.ie_eff(0, 25.1, 5, 10), emodel.ie_eff(0, 25.1, 5, 1))  # bursts hurt more
        self.assertEqual(emodel.ie_eff(0, 4.3, 50, 100), 95.0)  # past the model's end: capped
        q = emodel.run_quality([False] * 50, 0, "g729a")
        self.assertAlmostEqual(q["ie_eff"], 11.0, places=9)

    def test_cli(self):
        out = subprocess.run([sys.executable, os.path.join(ROOT, "testbed", "experiment", "emodel.py"), "--ppl", "2",
                              "--burstr", "1", "--codec", "g729a", "--delay-ms", "50"], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        self.assertAlmostEqual(r["R"], 74.21, delta=0.01)  # 93.21 - 19
        self.assertAlmostEqual(r["MOS"], 3.788, delta=0.001)

    def test_mos_falls_with_loss(self):
        for codec in ("g711plc", "g729a"):
            m = [emodel.run_quality([i < k for i in range(1000)], 0, codec)["mos"] for k in range(0, 200, 10)]
            self.assertTrue(all(a > b or a == b == 1.0 for a, b in zip(m, m[1:])), (codec, m))
            self.assertGreater(m[0] - m[-1], 2)


class Burst(unittest.TestCase):
    def test_no_loss(self):
        self.assertEqual(emodel.burst_ratio([False] * 100), 1.0)
        self.assertEqual(emodel.burst_ratio([]), 1.0)

    def test_random_like(self):
        # P(L|R) = P(L|L) = 1/2: independent of the previous packet -> 1 / (1/2 + 1/2); the framing
        # received packets make p = 100/201: BurstR = 1 / (100/201 + 1/2) = 1.0025
        self.assertAlmostEqual(emodel.burst_ratio([False, False, True, True] * 100), 1.0025, places=4)
        rnd = random.Random(7)
        self.assertAlmostEqual(emodel.burst_ratio([rnd.random() < 0.05 for _ in range(50000)]), 1.0, delta=0.05)

    def test_one_burst(self):
        # 25 lost of 400, framed by 2 received: p = 1/376, q = 1/25 -> 9400/401 = 23.441, wherever it is
        for head in (0, 200, 375):
            flags = [False] * head + [True] * 25 + [False] * (375 - head)
            self.assertAlmostEqual(emodel.burst_ratio(flags), 9400 / 401, places=9)
        self.assertGreater(emodel.burst_ratio([False] * 100 + [True] * 50 + [False] * 100), 40)

    def test_all_lost(self):
        self.assertEqual(emodel.burst_ratio([True] * 10), math.inf)
        self.assertEqual(emodel.run_quality([True] * 10, 0, "g711plc")["mos"], 1.0)


class Impact(unittest.TestCase):
    RUN = {"proto": "udp", "kbps": 48, "packets": 400, "loss_runs": [[200, 25]], "delay_ms_median": 0.2}

    def test_qos_impact(self):
        base = emodel.run_quality([], 0.2, "g711plc")["mos"]  # 4.40929
        # 8 s: Ppl 6.25, BurstR 23.441, Ie,eff = 95 * 6.25 / (0.26662 + 25.1) = 23.407, R = 69.799,
        # MOS 3.58756 -> (4.40929 - 3.58756) / 4.40929 = 18.64 %
        self.assertAlmostEqual(emodel.qos_impact(self.RUN, base, 8), 18.64, delta=0.01)
        self.assertAlmostEqual(emodel.qos_impact(self.RUN, base), 18.64, delta=0.01)
        # 2 min (6000 packets): Ppl 0.41667, BurstR 24.896, Ie,eff 1.576, R 91.630, MOS 4.3768 -> 0.74 %
        self.assertAlmostEqual(emodel.qos_impact(self.RUN, base, 120), 0.74, delta=0.01)
        self.assertEqual(emodel.qos_impact(dict(self.RUN, loss_runs=[]), base, 120), 0.0)

    def test_annotate_udp_and_tcp(self):
        udp = emodel.annotate(dict(self.RUN))
        self.assertAlmostEqual(udp["mos_baseline"], 4.4093, places=3)
        self.assertAlmostEqual(udp["mos"], 3.5876, places=3)
        self.assertAlmostEqual(udp["qos_drop_pct_8s"], 18.64, delta=0.01)
        self.assertAlmostEqual(udp["qos_drop_pct_120s"], 0.74, delta=0.01)
        # A TCP stall of 500 ms is a burst of 25 lost packets: the same numbers
        tcp = emodel.annotate({"proto": "tcp", "kbps": 48, "packets": 400, "tcp_stall_ms": 500.0,
                               "loss_runs": None, "delay_ms_median": 0.2})
        for k in ("mos", "mos_baseline", "qos_drop_pct_8s", "qos_drop_pct_120s"):
            self.assertAlmostEqual(tcp[k], udp[k], places=6)
        # No packet count: the stream's length from stream_s (5 s: 250 packets, 25 lost mid-stream)
        short = emodel.annotate({"proto": "tcp", "kbps": 48, "stream_s": 5, "tcp_stall_ms": 500.0, "delay_ms_median": 0.2})
        flags = [False] * 112 + [True] * 25 + [False] * 113
        self.assertAlmostEqual(short["mos"], emodel.run_quality(flags, 0.2, "g711plc")["mos"], places=4)
        self.assertAlmostEqual(short["qos_drop_pct_8s"], udp["qos_drop_pct_8s"], places=2)  # padded to 400
        g729 = emodel.annotate(dict(self.RUN, kbps=8))
        self.assertAlmostEqual(g729["mos_baseline"], emodel.mos(93.206 - 11), places=3)

    def test_codec_for_kbps(self):
        self.assertEqual(emodel.codec_for_kbps(8), "g729a")
        self.assertEqual(emodel.codec_for_kbps(48), "g711plc")
        self.assertEqual(emodel.codec_for_kbps(96), "g711plc")


if __name__ == "__main__":
    unittest.main()
