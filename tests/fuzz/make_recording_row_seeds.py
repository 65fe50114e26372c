#!/usr/bin/env python3
"""Writes the seed corpus of recording_row_fuzz (tests/fuzz/corpus/recording_row/).

Each seed is the fuzz target's input: call kind, error code, split, TTFT
byte, then the response msgpack and the chunks msgpack as
recording_codec.cpp writes them. A tiny msgpack writer keeps this free of
third-party modules.
"""
import os
import struct


def pack(v):
    if v is None:
        return b"\xc0"
    if isinstance(v, bool):
        return b"\xc3" if v else b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        return (bytes([0xA0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(v, list):
        return bytes([0x90 | len(v)]) + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        return bytes([0x80 | len(v)]) + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(v)


def seed(call, err, response, chunks, ttft):
    r = pack(response) if response is not None else b""
    c = pack(chunks) if chunks is not None else b""
    assert len(r) < 256
    return bytes([call, err, len(r), ttft]) + r + c


chat = {"content": "Hello", "tool_calls": [], "prompt_tokens": 3, "completion_tokens": 2,
        "finish": 0, "model": "m"}
tool = {"content": "", "tool_calls": [{"id": "c1", "name": "calc", "arguments": {"e": "1+2"}}],
        "prompt_tokens": 3, "completion_tokens": 2, "finish": 1, "model": "m"}
chunks = [{"t": 100000, "text": "Hel", "tool_calls": []},
          {"t": 200000, "text": "lo", "tool_calls": []}]
embed = {"vectors": [[0.5, -0.25], [1.0, 0.0]], "prompt_tokens": 4, "completion_tokens": 0}

out = os.path.join(os.path.dirname(__file__), "corpus", "recording_row")
os.makedirs(out, exist_ok=True)
seeds = {
    "chat.bin": seed(0, 0, chat, None, 255),
    "tool_calls.bin": seed(0, 0, tool, None, 255),
    "stream.bin": seed(1, 0, chat, chunks, 10),
    "embed.bin": seed(2, 0, embed, None, 255),
    "error.bin": seed(0, 6, None, None, 255),
    "stream_error.bin": seed(1, 6, None, chunks, 10),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
