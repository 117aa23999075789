#!/usr/bin/env bash
# Peak memory of `dae denoise` on a huge image: the streaming check.
#
#   Benchmarks/photos/stream_rss.sh MODEL [SIDE]      (default SIDE 20000)
#
# Writes a SIDE x SIDE gray PNG (a gradient with a checkerboard, a few hundred
# KB compressed) with Python's Pillow, denoises it with MODEL under
# /usr/bin/time -v, and prints the peak resident memory, the wall time and
# the output's size. The target for the tutorial model at 20000 x 20000 is
# <= 512 MB (Docs/Benchmarks.md).
set -euo pipefail
model=${1:?usage: stream_rss.sh MODEL [SIDE]}
side=${2:-20000}
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python=${PYTHON:-python3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$python" - "$side" "$scratch/huge.png" <<'PY'
import sys
import numpy as np
from PIL import Image
side, path = int(sys.argv[1]), sys.argv[2]
row = (np.arange(side) * 255 // max(side - 1, 1)).astype(np.uint8)
image = np.empty((side, side), np.uint8)
for y in range(0, side, 1000):
    block = np.tile(row, (min(1000, side - y), 1))
    block[(np.arange(block.shape[0])[:, None] // 64 + np.arange(side)[None, :] // 64) % 2 == 0] //= 2
    image[y:y + block.shape[0]] = block
Image.fromarray(image).save(path, optimize=False)
PY
echo "input: $(du -k "$scratch/huge.png" | cut -f1) KB PNG, ${side}x${side} gray"
(cd "$repo" && swift build -c release --product dae >/dev/null)
/usr/bin/time -v "$repo/.build/release/dae" denoise --model "$model" "$scratch/huge.png" --output "$scratch/out" \
    2> "$scratch/time.txt"
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$scratch/time.txt"
"$python" -c "from PIL import Image; Image.MAX_IMAGE_PIXELS = None; im = Image.open('$scratch/out/huge-denoised.png'); print('output:', im.size, im.mode)"
