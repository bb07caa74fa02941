#!/usr/bin/env python3
"""Sends hostile datagrams to a heartbeatd: garbage (malformed), a heartbeat with a bad MAC
(forged), an authentic one from a non-member (foreign) and an authentic but old one from a member
(replayed: seq 1 of its current boot).
usage: send_datagrams.py HOST PORT KEYFILE MEMBER MEMBER_BOOT"""
import hashlib
import hmac
import socket
import struct
import sys
import time

host, port, key_file, member, boot = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
key = open(key_file, "rb").read()


def packet(sender, boot, seq, key):
    name = sender.encode()
    body = b"EHB1" + bytes([len(name)]) + name
    body += struct.pack(">QQQQ", boot, seq, int(time.time() * 1e6), 0) + bytes([0, 0])  # flags, no entries
    return body + hmac.new(key, body, hashlib.sha256).digest()


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"this is not a heartbeat", (host, port))
s.sendto(packet(member, boot, 10**12, b"x" * 32), (host, port))  # wrong key: forged
good = bytearray(packet(member, boot, 10**12, key))
good[20] ^= 1  # one flipped bit: forged
s.sendto(bytes(good), (host, port))
s.sendto(packet("sg9", 1, 1, key), (host, port))  # foreign
s.sendto(packet(member, boot, 1, key), (host, port))  # replayed
