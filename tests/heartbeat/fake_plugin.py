#!/usr/bin/env python3
"""A stand-in for the charon plugin's control socket: logs every command it receives (one line
each, "MONOTONIC_SECONDS COMMAND ARGS") and answers OK (takeover: "OK\nactivated 0\n").
usage: fake_plugin.py SOCKET LOGFILE"""
import os
import socketserver
import struct
import sys
import time

sock_path, log_path = sys.argv[1], sys.argv[2]


def read_exact(f, n):
    b = b""
    while len(b) < n:
        chunk = f.read(n - len(b))
        if not chunk:
            raise EOFError
        b += chunk
    return b


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            (n,) = struct.unpack(">I", read_exact(self.rfile, 4))
            cmd = read_exact(self.rfile, n).decode()
        except EOFError:
            return
        with open(log_path, "a") as log:
            log.write("%.6f %s\n" % (time.monotonic(), cmd.split("\n")[0]))
        answer = b"OK\nactivated 0\n" if cmd.startswith("takeover ") else b"OK\n"
        self.wfile.write(struct.pack(">I", len(answer)) + answer)


class Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


if os.path.exists(sock_path):
    os.unlink(sock_path)
Server(sock_path, Handler).serve_forever()
