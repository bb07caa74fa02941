#!/usr/bin/env python3
"""Stands in for systemd's notification socket of one Type=notify service: binds SOCK and exits 0
when a message with READY=1 arrives, 1 after SECONDS without one.

    notify_ready.py SOCK SECONDS
"""
import socket
import sys
import time

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        if "READY=1" in s.recv(4096).decode(errors="replace").split("\n"):
            sys.exit(0)
    except socket.timeout:
        break
sys.exit(1)
