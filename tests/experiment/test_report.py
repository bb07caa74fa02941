"""testbed/experiment/report.py on synthetic run records: the summary's numbers, the files it writes."""
import json, os, subprocess, sys, tempfile, unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "testbed", "experiment"))
import emodel, report  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def python_with_matplotlib():
    """This interpreter if it has matplotlib, else Debian's (python3-matplotlib), else None."""
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run([py, "-c", "import matplotlib"], capture_output=True).returncode == 0:
            return py
    return None


def record(scenario, proto, interruption, lost, sample, **kw):
    r = {"scenario": scenario, "system": "elastic", "proto": proto, "cipher": "aes128-cbc", "kbps": 48,
         "heartbeat_ms": 1000, "sample": sample, "interruption_ms": interruption, "lost": lost, "duplicated": 0,
         "reordered": 0, "eu_replay_errors": 0, "tcp_retransmits": None, "tcp_stall_ms": None,
         "loss_runs": [[100, lost]] if lost else [], "packets": 400, "delay_ms_median": 0.3,
         "commit": "abc1234", "machine": "test vm", "started": f"2024-01-01T00:00:0{sample}Z"}
    r.update(kw)
    if proto == "tcp":
        r.update(loss_runs=None, packets=None, tcp_stall_ms=interruption, tcp_retransmits=3)
    return r


class Quantiles(unittest.TestCase):
    def test_stats(self):
        s = report.stats([4, 1, 3, 2])
        self.assertEqual((s["n"], s["median"], s["q1"], s["q3"], s["min"], s["max"]), (4, 2.5, 1.75, 3.25, 1, 4))
        s = report.stats([7.0])
        self.assertEqual((s["median"], s["q1"], s["q3"]), (7.0, 7.0, 7.0))
        self.assertEqual(report.stats([None])["n"], 0)
        self.assertIs(report.annotate, emodel.annotate)  # record.py calls report.annotate


class Report(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        py = python_with_matplotlib()
        if py is None:
            raise unittest.SkipTest("no python3 with matplotlib (apt-get install python3-matplotlib)")
        cls.tmp = tempfile.TemporaryDirectory()
        runs, cls.out = os.path.join(cls.tmp.name, "runs"), os.path.join(cls.tmp.name, "out")
        os.makedirs(runs)
        recs = [record("tm", "udp", i, lost, k) for k, (i, lost) in
                enumerate([(100, 5), (200, 10), (300, 15), (400, 20), (1000, 50)], 1)]
        recs += [record("ha_kill", "udp", i, int(i / 20), k) for k, i in enumerate([1500, 1600, 1400], 1)]
        recs += [record("none", "udp", i, 0, k, heartbeat_ms=None) for k, i in enumerate([1.0, 2.0, 3.0], 1)]
        recs += [record("tm", "tcp", i, 0, k) for k, i in enumerate([1000, 2000], 1)]
        # the engine's records carry the misses: the config's default gives its own label
        recs += [record("ha_kill", "tcp", 400, 0, 1, misses=3)]
        # a cell with its own heartbeat misses: apart from the default's
        recs += [record("ha_kill", "udp", i, int(i / 20), k, misses=2) for k, i in enumerate([900, 1100], 1)]
        cls.records = recs
        for i, r in enumerate(recs):
            with open(os.path.join(runs, f"run{i:02d}.json"), "w") as f:
                json.dump(r, f)
        with open(os.path.join(runs, "broken.json"), "w") as f:
            f.write("{")
        # a failed run's record (the engine ran it again): counted apart, not in the cells
        with open(os.path.join(runs, "tm-x-01.error.json"), "w") as f:
            json.dump(dict(record("tm", "udp", None, 0, 1), error="the receiver wrote no result"), f)
        subprocess.run([py, os.path.join(ROOT, "testbed", "experiment", "report.py"), runs, cls.out, "--paper"],
                       check=True, capture_output=True)
        with open(os.path.join(cls.out, "summary.json")) as f:
            cls.summary = json.load(f)
        cls.cells = {c["key"]: c for c in cls.summary["cells"]}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_cells(self):
        self.assertEqual(self.summary["runs"], 16)
        self.assertEqual([s[0] for s in self.summary["skipped"]], ["broken.json"])
        self.assertEqual(self.summary["failed"], [["tm-x-01.error.json", "the receiver wrote no result"]])
        self.assertEqual(set(self.cells), {"tm/udp/aes128-cbc/48/1000/elastic", "ha_kill/udp/aes128-cbc/48/1000/elastic",
                                           "none/udp/aes128-cbc/48/-/elastic", "tm/tcp/aes128-cbc/48/1000/elastic",
                                           "ha_kill/udp/aes128-cbc/48/1000x2/elastic", "ha_kill/tcp/aes128-cbc/48/1000x3/elastic"})
        tm = self.cells["tm/udp/aes128-cbc/48/1000/elastic"]
        self.assertEqual(tm["n"], 5)
        i = tm["interruption_ms"]
        self.assertEqual((i["median"], i["q1"], i["q3"], i["min"], i["max"]), (300, 200, 400, 100, 1000))
        lost = tm["lost"]
        self.assertEqual((lost["median"], lost["q1"], lost["q3"]), (15, 10, 20))
        self.assertEqual(self.cells["ha_kill/udp/aes128-cbc/48/1000/elastic"]["interruption_ms"]["median"], 1500)
        self.assertEqual(self.cells["none/udp/aes128-cbc/48/-/elastic"]["qos_drop_pct_8s"]["median"], 0)
        self.assertEqual(self.cells["ha_kill/udp/aes128-cbc/48/1000x2/elastic"]["interruption_ms"]["median"], 1000)

    def test_qos_from_emodel(self):
        # The records carried no QoS fields: the report annotated them (15 lost in one burst: the median)
        expect = emodel.annotate(record("tm", "udp", 300, 15, 3))
        d = self.cells["tm/udp/aes128-cbc/48/1000/elastic"]
        self.assertAlmostEqual(d["qos_drop_pct_8s"]["median"], expect["qos_drop_pct_8s"], places=6)
        self.assertAlmostEqual(d["qos_drop_pct_120s"]["median"], expect["qos_drop_pct_120s"], places=6)
        self.assertGreater(expect["qos_drop_pct_8s"], expect["qos_drop_pct_120s"])
        # TCP: stalls of 1 s and 2 s are bursts of 50 and 100 packets; the median of two is their mean
        tcp = [emodel.annotate(record("tm", "tcp", i, 0, 1))["qos_drop_pct_8s"] for i in (1000, 2000)]
        self.assertAlmostEqual(self.cells["tm/tcp/aes128-cbc/48/1000/elastic"]["qos_drop_pct_8s"]["median"], sum(tcp) / 2, places=6)

    def test_files(self):
        for name in ("fig_interruption_udp", "fig_qos_udp", "fig_interruption_tcp", "fig_qos_tcp"):
            with open(os.path.join(self.out, name + ".png"), "rb") as f:
                data = f.read()
            self.assertEqual(data[:8], PNG, name)
            self.assertGreater(len(data), 5000, name)
        with open(os.path.join(self.out, "report.md")) as f:
            md = f.read()
        for s in ("<!-- paragraph: fig_interruption_udp -->", "<!-- paragraph: fig_qos_tcp -->", "(fig_qos_udp.png)",
                  "test vm", "abc1234", "the paper reports 1330 ms", "the paper reports 1700 ms",
                  "ha_kill/elastic (heartbeat 1000 ms x 2): median 1000.0 ms",
                  "ha_kill/elastic (heartbeat 1000 ms x 3): median 400.0 ms",
                  "1 failed and were run again (the receiver wrote no result)"):
            self.assertIn(s, md)
        with open(os.path.join(self.out, "summary.md")) as f:
            self.assertIn("| tm | udp | aes128-cbc | 48 | 1000 | elastic | 5 | 300.0 [200.0–400.0] (100.0–1000.0) |", f.read())


if __name__ == "__main__":
    unittest.main()
