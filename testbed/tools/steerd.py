#!/usr/bin/env python3
"""steerd.py SOCKET: the test bed's long-running steering helper (charon.plugins.elastic.steer =
unix://SOCKET). The plugin connects, sends one line per VPN whose owner changed, "VPN_ID OWNER
EU_ADDRESS EU_NETS", then an empty line, and waits for "ok". The helper keeps `ip -batch`
processes per router (rf in front: a source rule per EU into the owner's table, one process per
address family; rb behind: routes for the EU's inner networks) so that no process starts on the
failover's critical path."""
import os, socket, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def addrs(owner):
    cmd = f". {HERE}/../lib/topology.sh; topology_sg_addrs {owner}; topology_sg_addrs6 {owner}"
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, check=True).stdout.split()
    return out  # up down rf_side rb_side, then the same for IPv6


class Router:
    """A persistent `ip -n NS -force -batch -`; a `link show dev lo` after each batch marks its end."""

    def __init__(self, ns, *family):
        self.p = subprocess.Popen(["ip", *family, "-n", ns, "-force", "-batch", "-"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def send(self, cmds):
        self.p.stdin.write("".join(c + "\n" for c in cmds) + "link show dev lo\n")
        self.p.stdin.flush()

    def wait(self):
        while "lo:" not in self.p.stdout.readline():
            pass


def main(path):
    cache = {f"sg{k}": addrs(f"sg{k}") for k in range(1, 9)}
    # ip rule takes the family from -4/-6, not from the address (ip route does)
    rf, rf6, rb = Router("rf", "-4"), Router("rf", "-6"), Router("rb")
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o600)
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        with conn, conn.makefile("rw") as f:
            front, front6, back = [], [], []
            for line in f:
                if not line.strip():
                    break
                vpn, owner, eu, nets = (line.split() + ["-"] * 4)[:4]
                if owner not in cache:  # (setdefault would run addrs() every time: ~100 ms)
                    cache[owner] = addrs(owner)
                down, down6 = cache[owner][1::4]
                (front6 if ":" in eu else front).extend(
                    [f"rule del from {eu} priority 100", f"rule add from {eu} lookup {100 + int(owner[2:])} priority 100"])
                back += [f"route replace {n} via {down6 if ':' in n else down}" for n in nets.split(",") if n != "-"]
            for r, cmds in ((rf, front), (rf6, front6), (rb, back)):
                r.send(cmds)
            for r in (rf, rf6, rb):
                r.wait()
            f.write("ok\n")
            f.flush()


if __name__ == "__main__":
    main(sys.argv[1])
