#!/usr/bin/env python3
"""Writes the seeds of checkpoint_resume_fuzz into corpus/checkpoint_resume/.

Usage: make_checkpoint_resume_seeds.py FLOWS_DB OUT_DIR

FLOWS_DB is a SQLite checkpoint store holding a thread of
tests/data/workflow/review.json (what `agentgraph run --workflow
tests/data/workflow/review.json --set runtime.checkpoint_path=FLOWS_DB`
leaves: the input, then one checkpoint per super-step up to the interrupt
before `publish`). Each of its checkpoints becomes a seed as stored; then
hand-made checkpoints that do not fit the graph are added (a missing next
node, a state that is not a map, join entries naming a missing edge or
source, an interrupt request of a missing node, an ended thread, pending
that is not a workflow's). Seed format: [step: 1 byte][state length: 2
bytes, little endian][state msgpack][pending msgpack].
"""
import os
import sqlite3
import struct
import sys


def pack(v):
    """The msgpack subset a workflow saves: nil, bool, int, str, array, map."""
    if v is None:
        return b"\xc0"
    if v is True or v is False:
        return b"\xc3" if v else b"\xc2"
    if isinstance(v, int):
        return bytes([v]) if 0 <= v < 128 else b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        b = v.encode()
        head = bytes([0xA0 | len(b)]) if len(b) < 32 else b"\xda" + struct.pack(">H", len(b))
        return head + b
    if isinstance(v, list):
        head = bytes([0x90 | len(v)]) if len(v) < 16 else b"\xdc" + struct.pack(">H", len(v))
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        head = bytes([0x80 | len(v)]) if len(v) < 16 else b"\xde" + struct.pack(">H", len(v))
        return head + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(v)


def seed(step, state_bytes, pending_bytes):
    return bytes([step & 0xFF]) + struct.pack("<H", len(state_bytes)) + state_bytes + pending_bytes


def main(db, out):
    os.makedirs(out, exist_ok=True)
    rows = sqlite3.connect(db).execute(
        "select checkpoint_id, step, state, pending from checkpoints order by checkpoint_id"
    ).fetchall()
    if not rows:
        sys.exit("no checkpoints in " + db)
    for cid, step, state, pending in rows:
        with open(os.path.join(out, "real-%d-step%d.bin" % (cid, step)), "wb") as f:
            f.write(seed(step, state, pending))
    state = {"topic": "crates", "draft": "d", "checked": "c", "styled": "s", "verdict": "v"}
    made = {
        "missing-next-node": (state, {"next": ["release"], "joins": {}}),
        "end-as-next-node": (state, {"next": ["END"], "joins": {}}),
        "state-array": ([1, 2], {"next": ["publish"], "joins": {}}),
        "state-string": ("text", {"next": ["publish"], "joins": {}}),
        "state-nil": (None, {"next": ["publish"], "joins": {}}),
        "join-missing-edge": (state, {"next": ["check"], "joins": {"9": ["style"]}}),
        "join-not-a-join": (state, {"next": ["check"], "joins": {"0": ["draft"]}}),
        "join-missing-source": (state, {"next": ["check"], "joins": {"1": ["style", "lint"]}}),
        "join-valid": (state, {"next": ["check"], "joins": {"1": ["style"]}}),
        "interrupt-missing-node": (dict(state, interrupt=[{"node": "asker", "request": "ok?"}]),
                                   {"next": ["publish"], "joins": {}}),
        "ended": (state, {"next": [], "joins": {}}),
        "pending-not-a-workflow": (state, {"nodes": ["publish"]}),
        "next-not-a-name": (state, {"next": [3], "joins": {}}),
    }
    for name, (st, pend) in made.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(seed(3, pack(st), pack(pend)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
