#!/usr/bin/env bash
# Runs the Keras and PyTorch peers of the tutorial model and then dae-bench's
# throughput section on the same data, one right after the other (the machine
# is shared and noisy: compare the figures as ratios), and prints the ratios.
#
# Usage: Benchmarks/run-peers.sh            (from anywhere)
#
# Environment (all optional):
#   DATA=/usr/share/datasets/fashion-mnist  IDX directory, the same for every framework
#   LIMIT_TRAIN=20000                       training images (1 epoch of these)
#   EPOCHS=1                                peer epochs (their median epoch is reported)
#   THREADS=2                               peer threads; dae-bench runs workers THREADS x OpenBLAS 1
#   DAE_REPETITIONS=3                       timed dae-bench epochs (and inference runs)
#   PEERS="keras torch"                     which peers to run
#   VENV=~/.cache/peers-venv                Python environment (created, and tensorflow-cpu,
#                                           torch and pillow installed, when missing)
#   OUT=<repo>/.build/peers/<timestamp>     where the JSON results and summary.md go
#   SCRATCH_PATH=                           swift build --scratch-path (default: .build)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# The peer scripts are not part of a clone: they live in the project's workspace.
peers_dir="${PEERS_DIR:-$here/../../shared/peers}"
if [ ! -f "$peers_dir/keras_dae.py" ]; then
    echo "run-peers.sh: no peer scripts in $peers_dir (set PEERS_DIR to a directory holding keras_dae.py," \
         "torch_dae.py and dae_common.py); dae-bench runs without them" >&2
    exit 1
fi
peers_dir="$(cd "$peers_dir" && pwd)"
DATA="${DATA:-/usr/share/datasets/fashion-mnist}"
LIMIT_TRAIN="${LIMIT_TRAIN:-20000}"
EPOCHS="${EPOCHS:-1}"
THREADS="${THREADS:-2}"
DAE_REPETITIONS="${DAE_REPETITIONS:-3}"
PEERS="${PEERS:-keras torch}"
VENV="${VENV:-$HOME/.cache/peers-venv}"
OUT="${OUT:-$repo/.build/peers/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"

log() { echo "[run-peers] $*" >&2; }

# 1. The Python environment of the peers.
if [ ! -x "$VENV/bin/python" ]; then
    log "creating the virtual environment $VENV"
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import tensorflow, torch, PIL" >/dev/null 2>&1; then
    log "installing tensorflow-cpu, torch and pillow into $VENV (large download)"
    "$VENV/bin/pip" install --quiet tensorflow-cpu torch pillow
fi

# 2. dae-bench, built in release.
scratch=()
if [ -n "${SCRATCH_PATH:-}" ]; then scratch=(--scratch-path "$SCRATCH_PATH"); fi
log "building dae-bench (release)"
(cd "$repo" && swift build -c release "${scratch[@]}" --product dae-bench >&2)
bench="$(cd "$repo" && swift build -c release "${scratch[@]}" --show-bin-path)/dae-bench"

# 3. The peers, then ours, back to back on the same data.
for peer in $PEERS; do
    case "$peer" in
        keras) script="keras_dae.py"; extra=() ;;
        torch) script="torch_dae.py"; extra=(--padding tf) ;;
        *) log "unknown peer '$peer' (keras or torch)"; exit 2 ;;
    esac
    log "running $peer: $EPOCHS epoch(s) of $LIMIT_TRAIN images, $THREADS threads"
    (cd "$peers_dir" && "$VENV/bin/python" "$script" --data "$DATA" --epochs "$EPOCHS" --threads "$THREADS" \
        --limit-train "$LIMIT_TRAIN" "${extra[@]}" --out "$OUT/$peer.json" >/dev/null)
done
log "running dae-bench throughput: workers $THREADS x OpenBLAS 1 and workers 1 x OpenBLAS 1"
"$bench" throughput --json --data "$DATA" --limit-train "$LIMIT_TRAIN" --threads "${THREADS}x1,1x1" \
    --repetitions "$DAE_REPETITIONS" --warmup 1 > "$OUT/dae.json"

# 4. The ratios.
"$VENV/bin/python" - "$OUT" "$THREADS" $PEERS <<'PY' | tee "$OUT/summary.md"
import json, os, sys
out, threads, peers = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
dae = json.load(open(os.path.join(out, "dae.json")))
env, tp = dae["environment"], dae["throughput"]
def ours(kind, workers, batch=None):
    rows = [r for r in tp[kind] if r["threads"]["workers"] == workers and (batch is None or r["batchSize"] == batch)]
    return rows[0]["samplesPerSecond"] if rows else float("nan")
train, infer256, infer32 = ours("training", threads), ours("inference", threads, 256), ours("inference", threads, 32)
print(f"### Peer comparison, measured on {env['date'][:10]} ({env['date']})\n")
print(f"Machine: {env['activeProcessors']} cores, {env['openBLASConfiguration']}. Data: {tp['data']}.")
print(f"Peers: {threads} threads, median epoch of their run (validation excluded); dae: `fit`, workers {threads} x OpenBLAS 1,")
print("median of the timed epochs after a short warm-up. Inference: peers `predict` / forward at batch 256;"
      " dae `denoise` with inferenceBatchSize 256 (and 32).\n")
print("| framework | train samples/s | inference samples/s (batch 256) | dae / framework, training | dae / framework, inference |")
print("| --- | ---: | ---: | ---: | ---: |")
for peer in peers:
    p = json.load(open(os.path.join(out, f"{peer}.json")))
    t, i = p["train_samples_per_s"], p["infer_samples_per_s"]
    print(f"| {p['framework']} ({p['version']}) | {t:.0f} | {i:.0f} | {train / t:.2f}x | {infer256 / i:.2f}x |")
print(f"| dae (this library) | {train:.0f} | {infer256:.0f} (batch 32: {infer32:.0f}) | 1.00x | 1.00x |")
PY
log "results in $OUT"
