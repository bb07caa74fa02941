#!/usr/bin/env python3
"""Stands in for systemd's notification socket: binds SOCK (AF_UNIX datagram) and writes every
message received during SECONDS to LOG, one line each (newlines inside a message become spaces).

    notify_listen.py SOCK LOG SECONDS
"""
import socket
import sys
import time

sock_path, log_path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
s.settimeout(0.2)
end = time.monotonic() + seconds
with open(log_path, "w") as log:
    while time.monotonic() < end:
        try:
            log.write(s.recv(4096).decode().replace("\n", " ") + "\n")
            log.flush()
        except socket.timeout:
            pass
