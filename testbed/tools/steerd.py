#!/usr/bin/env python3
"""steerd.py SOCKET: the test bed's long-running steering helper (charon.plugins.elastic.steer =
unix://SOCKET). The plugin connects, sends one line per VPN whose owner changed, "VPN_ID OWNER
EU_ADDRESS EU_NETS", then an empty line, and waits for "ok". The helper keeps one `ip -batch`
process per router (rf in front: a source rule per EU into the owner's table; rb behind: routes
for the EU's inner networks) so that no process starts on the failover's critical path."""
import os, socket, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def addrs(owner):
    out = subprocess.run(["bash", "-c", f". {HERE}/../lib/topology.sh; topology_sg_addrs {owner}"],
                         capture_output=True, text=True, check=True).stdout.split()
    return out  # up down rf_side rb_side


class Router:
    """A persistent `ip -n NS -force -batch -`; a `link show dev lo` after each batch marks its end."""

    def __init__(self, ns):
        self.p = subprocess.Popen(["ip", "-n", ns, "-force", "-batch", "-"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def send(self, cmds):
        self.p.stdin.write("".join(c + "\n" for c in cmds) + "link show dev lo\n")
        self.p.stdin.flush()

    def wait(self):
        while "lo:" not in self.p.stdout.readline():
            pass


def main(path):
    cache, rf, rb = {f"sg{k}": addrs(f"sg{k}") for k in range(1, 9)}, Router("rf"), Router("rb")
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o600)
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        with conn, conn.makefile("rw") as f:
            front, back = [], []
            for line in f:
                if not line.strip():
                    break
                vpn, owner, eu, nets = (line.split() + ["-"] * 4)[:4]
                up, down, _, _ = cache.setdefault(owner, addrs(owner))
                front += [f"rule del from {eu}/32 priority 100",
                          f"rule add from {eu}/32 lookup {100 + int(owner[2:])} priority 100"]
                back += [f"route replace {n} via {down}" for n in nets.split(",") if n != "-"]
            rf.send(front)
            rb.send(back)
            rf.wait()
            rb.wait()
            f.write("ok\n")
            f.flush()


if __name__ == "__main__":
    main(sys.argv[1])
