#!/usr/bin/env python3
"""Writes the seed corpus of cluster_heartbeat_fuzz (tests/fuzz/corpus/cluster_heartbeat/).

Mode 0 seeds are heartbeats as CAF 0.17's binary serializer writes them
(strings as a varbyte length and the bytes, integers big-endian and fixed
width): ours with links_lost, and an older peer's that ends at dir_version.
Mode 1 seeds drive the target's builder (its opening comment).
"""
import os
import struct


def varbyte(n):
    out = b""
    while n > 0x7F:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def text(s):
    b = s.encode()
    return varbyte(len(b)) + b


def heartbeat(name, host, port, uid, seq, load, dir_version, links_lost=None):
    out = text(name) + text(host) + struct.pack(">HQQIQ", port, uid, seq, load, dir_version)
    if links_lost is not None:
        out += struct.pack(">Q", links_lost)
    return out


SEEDS = {
    "ours_notice.bin": b"\x00" + heartbeat("n2", "n2", 4242, 7549747200001883642, 41, 7, 9, 3),
    "ours_plain.bin": b"\x00" + heartbeat("n1", "10.0.0.1", 4242, 1, 1, 0, 0, 0),
    "older_peer.bin": b"\x00" + heartbeat("n3", "n3", 4242, 99, 12, 2, 5),
    "long_name.bin": b"\x00" + heartbeat("x" * 200, "h", 1, 2, 3, 4, 5, 6),
    "build_notice.bin": b"\x01\x02n2\x02n2\x10\x92\x07\x29\x07\x09\x03\x00",
    "build_older.bin": b"\x01\x02n3\x02n3\x10\x92\x63\x0c\x02\x05\x00\x01",
}


def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "cluster_heartbeat")
    os.makedirs(here, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(here, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
