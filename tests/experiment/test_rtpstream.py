"""testbed/tools/rtpstream.py on the loopback: a clean stream, a forced outage, a loss at the very end.
Timing bounds are loose: the machine is shared and busy."""
import json, os, signal, socket, subprocess, sys, tempfile, time, unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(ROOT, "testbed", "tools", "rtpstream.py")
sys.path[:0] = [os.path.join(ROOT, "testbed", "tools"), os.path.join(ROOT, "testbed", "experiment")]
import emodel, rtpstream  # noqa: E402


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_file(path, proc, timeout=20):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > end:
            raise AssertionError(f"{path} not created (exit {proc.poll()})")
        time.sleep(0.01)


class Stream(unittest.TestCase):
    def run_stream(self, kbps, secs, *recv_args, mark=False):
        """Receiver then sender on 127.0.0.1; returns (sender's JSON, receiver's JSON)."""
        with tempfile.TemporaryDirectory() as d:
            port, out = free_port(), os.path.join(d, "out.json")
            env = dict(os.environ, PROBE_READY=os.path.join(d, "recv.ready"))
            rx = subprocess.Popen([sys.executable, TOOL, "recv", "127.0.0.1", str(port), str(secs), out, *recv_args], env=env)
            try:
                wait_file(env["PROBE_READY"], rx)
                env["PROBE_READY"] = os.path.join(d, "send.ready")
                tx = subprocess.Popen([sys.executable, TOOL, "send", "127.0.0.1", "127.0.0.1", str(port), str(kbps), str(secs)],
                                      env=env, stdout=subprocess.PIPE, text=True)
                if mark:
                    wait_file(env["PROBE_READY"], tx)
                    time.sleep(0.3)
                    tx.send_signal(signal.SIGUSR1)
                sent = json.loads(tx.communicate(timeout=secs + 20)[0])
                self.assertEqual(rx.wait(timeout=secs + 20), 0)
            finally:
                if rx.poll() is None:
                    rx.kill()
            with open(out) as f:
                return sent, json.load(f)

    def test_clean_stream(self):
        sent, r = self.run_stream(48, 1.5, mark=True)
        self.assertEqual(sent["sent"], 75)
        self.assertEqual(r["sent_expected"], 75)
        self.assertEqual(r["packets"], 75)
        self.assertEqual(r["received"], 75)
        self.assertEqual(r["lost"], 0)
        self.assertEqual(r["loss_runs"], [])
        self.assertEqual(r["duplicated"], 0)
        self.assertTrue(r["end_report"])
        self.assertLess(r["interruption_ms"], 200)
        self.assertGreaterEqual(r["delay_ms_median"], 0)
        self.assertLess(r["delay_ms_median"], 50)
        self.assertGreaterEqual(r["delay_ms_p99"], r["delay_ms_median"])
        self.assertIsNotNone(sent["mark_s"])
        self.assertLess(sent["mark_s"], 1.5)

    def test_forced_outage(self):
        _, r = self.run_stream(48, 2.5, "--drop-from", "0.8", "--drop-for", "500")
        self.assertEqual(r["sent_expected"], 125)
        self.assertAlmostEqual(r["interruption_ms"], 500, delta=60)
        self.assertAlmostEqual(r["lost"], 25, delta=3)
        self.assertEqual(len(r["loss_runs"]), 1)
        self.assertEqual(r["loss_runs"][0][1], r["lost"])
        self.assertAlmostEqual(r["gap_at_s"], 0.78, delta=0.1)
        self.assertEqual(r["received"] + r["lost"], 125)

    def test_tail_loss_counted(self):
        # Data packets of the last ~200 ms and the first end report are dropped; a later report counts them.
        _, r = self.run_stream(8, 1.0, "--drop-from", "0.8", "--drop-for", "250")
        self.assertTrue(r["end_report"])
        self.assertEqual(r["sent_expected"], 50)
        self.assertAlmostEqual(r["lost"], 10, delta=3)
        first, count = r["loss_runs"][-1]
        self.assertEqual(first + count, 50)
        self.assertAlmostEqual(r["interruption_ms"], 200, delta=60)

    def test_packet_format(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(10)
            tx = subprocess.Popen([sys.executable, TOOL, "send", "127.0.0.1", "127.0.0.1", str(s.getsockname()[1]), "8", "0.2"],
                                  stdout=subprocess.PIPE)
            pkts = [s.recv(2048) for _ in range(13)]
            tx.communicate(timeout=10)
        rtp, reports = pkts[:10], pkts[10:]
        for i, p in enumerate(rtp):
            v, pt, seq, ts, _ = rtpstream.RTP.unpack_from(p)
            self.assertEqual((v, pt, seq, ts, len(p)), (0x80, 18, i, i * 160, 12 + 8 + 20))
        for k, p in enumerate(reports):
            v, pt, length, _, _, ts, count, octets = rtpstream.SR.unpack(p)
            self.assertEqual((v, pt, length, ts, count, octets), (0x80, 200, 6, (10 + 5 * k) * 160, 10, 200))


class Helpers(unittest.TestCase):
    def test_unwrap(self):
        self.assertEqual(rtpstream.unwrap(5, -1), 5)
        self.assertEqual(rtpstream.unwrap(3, 65534), 65539)
        self.assertEqual(rtpstream.unwrap(65535, 65537), 65535)
        self.assertEqual(rtpstream.unwrap(100, 70000), 65636)

    def test_loss_runs_round_trip(self):
        runs = rtpstream.loss_runs({0, 1, 4, 5, 6, 9}, 12)
        self.assertEqual(runs, [[2, 2], [7, 2], [10, 2]])
        flags = emodel.expand_runs(runs, 12)
        self.assertEqual([i for i, f in enumerate(flags) if f], [2, 3, 7, 8, 10, 11])

    def test_percentile(self):
        xs = list(range(1, 101))
        self.assertEqual(rtpstream.percentile(xs, 50), 50)
        self.assertEqual(rtpstream.percentile(xs, 99), 99)
        self.assertEqual(rtpstream.percentile([7.0], 99), 7.0)


if __name__ == "__main__":
    unittest.main()
