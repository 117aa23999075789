#!/usr/bin/env bash
# Training speed of the photo architecture: Keras against dae, same images,
# same patches per epoch, same threads, one right after the other (the
# machine is shared: read the figures as a ratio).
#
#   Benchmarks/photos/run-photo-peers.sh
#   PRESET=builtin EPOCHS=3 PATCHES=1024 DAE=/path/to/dae Benchmarks/photos/run-photo-peers.sh
#
# Environment (all optional):
#   IMAGES=/usr/share/backgrounds/mate/nature   the photo folder (the last 2 by name are held out)
#   EPOCHS=3  PATCHES=4096  THREADS=2
#   PRESET=photo                                the architecture on both sides: photo (the default:
#                                               `dae train` with no --preset, 40x40 patches) or builtin
#                                               (the built-in denoiser's, with its noise-level map,
#                                               48x48 patches: `--preset builtin` on both sides) or
#                                               builtin-deep (the same with 17 convolutions)
#   WINOGRAD=1                                  dae trains with --winograd (its stride-1 3x3 layers
#                                               as Winograd F(2x2, 3x3); Keras is unchanged);
#                                               WINOGRAD=f4: --winograd-f4; WINOGRAD=f4-weights:
#                                               --winograd-f4-weight-gradient (all three passes F(4x4, 3x3))
#   DAE=<path>                                  a dae binary to use; unset, this checkout's
#                                               release build (built first)
#   VENV=~/.cache/peers-venv                    Python with tensorflow-cpu and pillow (installed when missing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
IMAGES="${IMAGES:-/usr/share/backgrounds/mate/nature}"
EPOCHS="${EPOCHS:-3}"
PATCHES="${PATCHES:-4096}"
THREADS="${THREADS:-2}"
PRESET="${PRESET:-photo}"
DAE="${DAE:-}"
WINOGRAD="${WINOGRAD:-}"
VENV="${VENV:-$HOME/.cache/peers-venv}"
log() { echo "[photo-peers] $*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if ! "$VENV/bin/python" -c "import tensorflow, PIL" >/dev/null 2>&1; then
    log "installing tensorflow-cpu and pillow into $VENV (large download)"
    "$VENV/bin/pip" install --quiet tensorflow-cpu pillow
fi
case "$PRESET" in
    photo) dae_preset=() ;;
    builtin|builtin-deep) dae_preset=(--preset "$PRESET") ;;
    *) echo "PRESET must be photo, builtin or builtin-deep, got $PRESET" >&2; exit 2 ;;
esac
case "$WINOGRAD" in
    '') ;;
    1) dae_preset+=(--winograd) ;;
    f4) dae_preset+=(--winograd-f4) ;;
    f4-weights) dae_preset+=(--winograd-f4-weight-gradient) ;;
    *) echo "WINOGRAD must be 1, f4 or f4-weights, got $WINOGRAD" >&2; exit 2 ;;
esac
if [ -z "$DAE" ]; then
    (cd "$repo" && swift build -c release --product dae >&2)
    DAE="$repo/.build/release/dae"
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

log "keras ($PRESET): $EPOCHS epochs of $PATCHES patches, $THREADS threads"
keras=$("$VENV/bin/python" "$here/keras_photo.py" --preset "$PRESET" --images "$IMAGES" --epochs "$EPOCHS" --patches "$PATCHES" \
        --threads "$THREADS" | tail -n 1)
log "dae ($PRESET ${dae_preset[*]}): $EPOCHS epochs of $PATCHES patches, $THREADS workers"
dae=$("$DAE" train --images "$IMAGES" --checkpoint "$scratch/photo.safetensors" --epochs "$EPOCHS" "${dae_preset[@]}" \
      --patches-per-epoch "$PATCHES" --workers "$THREADS" --json | tail -n 1)
python3 - "$keras" "$dae" <<'PY'
import json, statistics, sys
keras, dae = json.loads(sys.argv[1]), json.loads(sys.argv[2])
dae_rate = statistics.median(e["samplesPerSecond"] for e in dae["history"])
keras_epochs = ", ".join(f"{s:.1f}" for s in keras["epochSeconds"])
dae_epochs = ", ".join(f"{e['seconds']:.1f}" for e in dae["history"])
print("| framework | epoch seconds | patches/s (median epoch) |\n|---|---|---:|")
print(f"| {keras['framework']} | {keras_epochs} | {keras['samplesPerSecond']:.1f} |")
print(f"| dae | {dae_epochs} | {dae_rate:.1f} |")
print(f"\ndae / keras: {dae_rate / keras['samplesPerSecond']:.2f}x")
PY
