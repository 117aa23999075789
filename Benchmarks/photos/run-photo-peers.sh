#!/usr/bin/env bash
# Training speed of the photo architecture: Keras against dae, same images,
# same patches per epoch, same threads, one right after the other (the
# machine is shared: read the figures as a ratio).
#
#   Benchmarks/photos/run-photo-peers.sh
#
# Environment (all optional):
#   IMAGES=/usr/share/backgrounds/mate/nature   the photo folder (the last 2 by name are held out)
#   EPOCHS=3  PATCHES=4096  THREADS=2
#   VENV=~/.cache/peers-venv                    Python with tensorflow-cpu and pillow (installed when missing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
IMAGES="${IMAGES:-/usr/share/backgrounds/mate/nature}"
EPOCHS="${EPOCHS:-3}"
PATCHES="${PATCHES:-4096}"
THREADS="${THREADS:-2}"
VENV="${VENV:-$HOME/.cache/peers-venv}"
log() { echo "[photo-peers] $*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if ! "$VENV/bin/python" -c "import tensorflow, PIL" >/dev/null 2>&1; then
    log "installing tensorflow-cpu and pillow into $VENV (large download)"
    "$VENV/bin/pip" install --quiet tensorflow-cpu pillow
fi
(cd "$repo" && swift build -c release --product dae >&2)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

log "keras: $EPOCHS epochs of $PATCHES patches, $THREADS threads"
keras=$("$VENV/bin/python" "$here/keras_photo.py" --images "$IMAGES" --epochs "$EPOCHS" --patches "$PATCHES" --threads "$THREADS" | tail -n 1)
log "dae: $EPOCHS epochs of $PATCHES patches, $THREADS workers"
dae=$("$repo/.build/release/dae" train --images "$IMAGES" --checkpoint "$scratch/photo.safetensors" --epochs "$EPOCHS" \
      --patches-per-epoch "$PATCHES" --workers "$THREADS" --json | tail -n 1)
python3 - "$keras" "$dae" <<'PY'
import json, statistics, sys
keras, dae = json.loads(sys.argv[1]), json.loads(sys.argv[2])
dae_rate = statistics.median(e["samplesPerSecond"] for e in dae["history"])
print(f"| framework | patches/s (median epoch) |\n|---|---:|")
print(f"| {keras['framework']} | {keras['samplesPerSecond']:.0f} |")
print(f"| dae | {dae_rate:.0f} |")
print(f"\ndae / keras: {dae_rate / keras['samplesPerSecond']:.2f}x")
PY
