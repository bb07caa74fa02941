#!/usr/bin/env python3
"""blast.py SRC HOST PORT COUNT: send COUNT small UDP datagrams from address SRC as fast as possible
(a busy tunnel)."""
import socket, sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
dst, payload = (sys.argv[2], int(sys.argv[3])), b"\0" * 64
sent = 0
for _ in range(int(sys.argv[4])):
    try:
        s.sendto(payload, dst)
        sent += 1
    except OSError:  # ENOBUFS when the queue is full: a flood drops, it does not stop
        pass
print(sent)
