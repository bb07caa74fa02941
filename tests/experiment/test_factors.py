"""testbed/experiment/factors.py: the chi-square tail and Kruskal-Wallis test against textbook
values, and the selection and text of the factor figure."""
import os, sys, unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "testbed", "experiment"))
import factors  # noqa: E402


class ChiSquare(unittest.TestCase):
    def test_critical_values(self):
        # the 5 % and 1 % critical values of the chi-square table, df 1..5
        for df, c05, c01 in ((1, 3.841, 6.635), (2, 5.991, 9.210), (3, 7.815, 11.345), (4, 9.488, 13.277),
                             (5, 11.070, 15.086)):
            self.assertAlmostEqual(factors.chi2_sf(c05, df), 0.05, places=4, msg=f"df {df}")
            self.assertAlmostEqual(factors.chi2_sf(c01, df), 0.01, places=4, msg=f"df {df}")
        self.assertEqual(factors.chi2_sf(0, 3), 1.0)


class Kruskal(unittest.TestCase):
    def test_two_groups_by_hand(self):
        # ranks 1..6: R = 6 and 15, H = 12/42 (36/3 + 225/3) - 21 = 3.857; p = erfc(sqrt(H/2))
        h, df, p = factors.kruskal([[1, 2, 3], [4, 5, 6]])
        self.assertAlmostEqual(h, 27 / 7, places=9)
        self.assertEqual(df, 1)
        self.assertAlmostEqual(p, 0.0495, places=4)

    def test_ties(self):
        # [1, 2, 2] vs [2, 3]: mid-rank 3 for the three 2s, R = 7 and 8, N = 5:
        # H = 12/30 (49/3 + 64/2) - 18 = 4/3, divided by the tie correction 1 - (27 - 3)/(125 - 5)
        h, df, _ = factors.kruskal([[1, 2, 2], [2, 3]])
        self.assertAlmostEqual(h, 4 / 3 / 0.8, places=9)
        self.assertEqual(df, 1)

    def test_same_distribution_and_degenerate(self):
        _, df, p = factors.kruskal([[1, 4, 7], [2, 5, 8], [3, 6, 9]])
        self.assertEqual(df, 2)
        self.assertGreater(p, 0.5)
        self.assertIsNone(factors.kruskal([[1, 2, 3]]))
        self.assertIsNone(factors.kruskal([[5, 5], [5, 5]]))  # no variation: nothing to rank


def rec(scenario, cipher, kbps, ms, proto="udp", heartbeat="100x3", system="elastic"):
    return {"scenario": scenario, "system": system, "proto": proto, "cipher": cipher, "kbps": kbps,
            "heartbeat": heartbeat, "interruption_ms": ms}


class Text(unittest.TestCase):
    def test_effect_and_selection(self):
        recs = [rec("tm", "aes128-cbc", 48, v) for v in (60, 80, 80, 100, 60)]
        recs += [rec("tm", "aes128-ctr", 48, v) for v in (80, 60, 100, 80, 60)]
        recs += [rec("ha_kill", "aes128-cbc", 48, v) for v in (200, 220, 240, 260, 280)]
        recs += [rec("ha_kill", "aes128-ctr", 48, v) for v in (900, 950, 1000, 1050, 1100)]
        # other heartbeats and systems stay out
        recs += [rec("ha_kill", "aes128-cbc", 48, 5000, heartbeat="1000x3"), rec("tm", "aes128-cbc", 48, 9, system="redirect")]
        md = factors.text(recs)
        self.assertIn("| tm | udp | cipher at 48 kbps | aes128-cbc: 80 (5), aes128-ctr: 80 (5) |", md)
        self.assertIn("| ha_kill | udp | cipher at 48 kbps | aes128-cbc: 240 (5), aes128-ctr: 1000 (5) |", md)
        self.assertIn("1 found a difference at the 5 % level: ha_kill/udp by cipher at 48 kbps", md)
        self.assertIn("heartbeat 100x3", md)

    def test_bit_rate_pools_only_ciphers_of_every_rate(self):
        # gcm only at 48 kbps: it stays out of the bit-rate test (it would make 48 kbps look slower)
        recs = [rec("tm", c, k, 80) for c in ("aes128-cbc", "aes128-ctr") for k in (8, 48, 96)]
        recs += [rec("tm", "aes128-gcm", 48, 900), rec("ha_kill", "aes128-cbc", 48, 300)]
        md = factors.text(recs)
        self.assertIn("| tm | udp | bit rate (cbc, ctr) | 8: 80 (2), 48: 80 (2), 96: 80 (2) |", md)
        self.assertIn("aes128-gcm: 900 (1)", md)


if __name__ == "__main__":
    unittest.main()
