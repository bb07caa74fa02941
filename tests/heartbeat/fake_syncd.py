#!/usr/bin/env python3
"""A stand-in for elastic-syncd's local socket: logs every frame it receives as "TYPE BODY".
usage: fake_syncd.py SOCKET LOGFILE"""
import os
import socketserver
import struct
import sys

sock_path, log_path = sys.argv[1], sys.argv[2]


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            head = self.rfile.read(5)
            if len(head) < 5:
                return
            n, t = struct.unpack(">IB", head)
            body = self.rfile.read(n - 1)
            with open(log_path, "a") as log:
                log.write("%d %s\n" % (t, body.decode(errors="replace")))


class Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


if os.path.exists(sock_path):
    os.unlink(sock_path)
Server(sock_path, Handler).serve_forever()
