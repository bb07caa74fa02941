#!/usr/bin/env python3
"""A recorded TLS session replayed to elastic-syncd must be refused.

Relays one legitimate peer connection (openssl s_client with a member's certificate, sending a
Hello) through a recording proxy, then sends the recorded client bytes again on a new connection:
TLS 1.3 without session tickets cannot accept them (fresh server random, no resumption).
usage: replay.py LISTEN_PORT TARGET_PORT  -- then run the client against LISTEN_PORT; prints the
number of bytes the server sent back to the replay before it closed.
"""
import socket
import sys
import threading

listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
recorded = bytearray()

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(1)
print("ready", flush=True)
client, _ = srv.accept()
upstream = socket.create_connection(("127.0.0.1", target_port))


def pump(src, dst, record):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if record:
                recorded.extend(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


threads = [threading.Thread(target=pump, args=(client, upstream, True)),
           threading.Thread(target=pump, args=(upstream, client, False))]
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=10)

replay = socket.create_connection(("127.0.0.1", target_port))
replay.settimeout(5)
replay.sendall(bytes(recorded))
answer = 0
try:
    while True:
        data = replay.recv(65536)
        if not data:
            break
        answer += len(data)
except OSError:
    pass
print(f"recorded {len(recorded)} bytes, server answered the replay with {answer} bytes", flush=True)
