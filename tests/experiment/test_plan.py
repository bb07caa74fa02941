"""plan.py: the runs a config asks for, their keys and order, and configs it rejects."""
import os, subprocess, sys, tempfile, unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAN = os.path.join(ROOT, "testbed", "experiment", "plan.py")


def plan(cells, *args, runs=None):
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "x.conf")
        with open(conf, "w") as f:
            f.write("[experiment]\nstream_s = 8\n[cells]\n" + cells)
        os.makedirs(os.path.join(d, "runs"))
        for k in runs or []:
            open(os.path.join(d, "runs", k + ".json"), "w").close()
        env = {k: v for k, v in os.environ.items() if k != "ELASTIC_EXPERIMENT_CELLS"}
        return subprocess.run([sys.executable, PLAN, *args, conf, os.path.join(d, "runs")],
                              capture_output=True, text=True, env=env)


class Plan(unittest.TestCase):
    def test_keys_and_interleaving(self):
        p = plan("a = tm elastic udp,tcp cbc 48 100 2\nb = ha_kill elastic udp cbc 48 100 1\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        keys = [line.split()[0] for line in p.stdout.splitlines()]
        self.assertEqual(keys, ["tm-elastic-udp-cbc-48-hb100-01", "tm-elastic-tcp-cbc-48-hb100-01",
                                "ha_kill-elastic-udp-cbc-48-hb100-01",
                                "tm-elastic-udp-cbc-48-hb100-02", "tm-elastic-tcp-cbc-48-hb100-02"])
        self.assertEqual(p.stdout.splitlines()[0].split()[1:], ["tm", "elastic", "udp", "cbc", "48", "100", "8"])

    def test_misses_per_cell(self):
        p = plan("a = ha_kill elastic udp cbc 48 500x2 1 stream_s=12\nb = tm redirect udp cbc 48 - 1\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([line.split() for line in p.stdout.splitlines()],
                         [["ha_kill-elastic-udp-cbc-48-hb500x2-01", "ha_kill", "elastic", "udp", "cbc", "48", "500x2", "12"],
                          ["tm-redirect-udp-cbc-48-hb0-01", "tm", "redirect", "udp", "cbc", "48", "0", "8"]])

    def test_resume_count(self):
        p = plan("a = tm elastic udp cbc 48 100 3\n", "--count", runs=["tm-elastic-udp-cbc-48-hb100-02"])
        self.assertEqual(p.stdout.split(), ["1", "3"])

    def test_rejects(self):
        for cells, what in (("a = tm elastic udp cbc 48 1000x1 1", "heartbeat_ms '1000x1'"),
                            ("a = tm elastic udp cbc 48 5 1", "heartbeat_ms '5'"),
                            ("a = tm elastic udp cbc 48 100x 1", "heartbeat_ms '100x'"),
                            ("a = tm elastic udp xts 48 100 1", "unknown cipher 'xts'"),
                            ("a = tm nobody udp cbc 48 100 1", "unknown system 'nobody'"),
                            ("a = tm elastic udp cbc 48 100 1 stream_s=2", "stream_s=4..300"),
                            ("a = tm elastic udp cbc", "expected SCENARIO")):
            p = plan(cells + "\n")
            self.assertNotEqual(p.returncode, 0, cells)
            self.assertIn(what, p.stderr, cells)


if __name__ == "__main__":
    unittest.main()
