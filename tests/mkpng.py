#!/usr/bin/env python3
"""mkpng.py OUT W H SEED [PAD]: a valid PNG of W x H random pixels; PAD bytes of
random data in a private ancillary chunk make it as large as a test needs."""
import os, random, struct, sys, zlib
out, w, h, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
pad = int(sys.argv[5]) if len(sys.argv) > 5 else 0
rng = random.Random(seed)
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
raw = b"".join(b"\0" + bytes(rng.getrandbits(8) for _ in range(w * 3)) for _ in range(h))
with open(out, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n")
    f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
    if pad:
        f.write(chunk(b"prVt", os.urandom(pad)))
    f.write(chunk(b"IDAT", zlib.compress(raw)))
    f.write(chunk(b"IEND", b""))
