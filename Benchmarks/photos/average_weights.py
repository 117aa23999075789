"""Averages the weights of model files of one architecture (`dae export`
output: safetensors, float32 tensors), e.g. the last epochs of successive
training cycles, as stochastic weight averaging does with the ends of
cyclic learning rates. The header (names, shapes, metadata) is the last
file's; each tensor is the mean of the files', computed in float64.

  python3 Benchmarks/photos/average_weights.py OUT.safetensors A.safetensors B.safetensors ...

Needs numpy. A probe: nothing in the library averages weights.
"""
import json
import struct
import sys

import numpy as np


def read(path):
    """The file's bytes, its header's length and its header."""
    data = open(path, "rb").read()
    length = struct.unpack("<Q", data[:8])[0]
    return data, length, json.loads(data[8:8 + length])


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    output, inputs = sys.argv[1], [read(path) for path in sys.argv[2:]]
    data, length, header = inputs[-1]
    averaged = bytearray(data)
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            sys.exit(f"{name}: {entry['dtype']}, not F32")
        total = 0.0
        for other, other_length, other_header in inputs:
            if name not in other_header or other_header[name]["shape"] != entry["shape"]:
                sys.exit(f"{name}: not in every file with the shape {entry['shape']}")
            start, end = other_header[name]["data_offsets"]
            total = total + np.frombuffer(other[8 + other_length + start:8 + other_length + end], np.float32).astype(np.float64)
        start, end = entry["data_offsets"]
        averaged[8 + length + start:8 + length + end] = (total / len(inputs)).astype(np.float32).tobytes()
    with open(output, "wb") as file:
        file.write(bytes(averaged))


if __name__ == "__main__":
    main()
