#!/usr/bin/env bash
# Fuzz the file parsers and the checkpoint loader with libFuzzer + AddressSanitizer.
#
#   Fuzz/run.sh [seconds] [target...]     (default: 60 s each, targets: safetensors idx image checkpoint)
#
# Targets:
#   safetensors  SafetensorsFile(data:path:)   Sources/DAEFiles/Safetensors*.swift
#   idx          IDXFile(data:path:)           Sources/DAEKit/Data/IDX*.swift + GzipInflater.swift
#                (inputs starting 1f 8b go through the zlib inflater)
#   image        ImageReader(data:path:) + a full decode: PNG (libpng) and JPEG
#                (libjpeg-turbo) through Sources/CImageCodecs, the C shim built with ASan
#   checkpoint   DenoisingAutoencoder(checkpoint:path:)   all of Sources/DAEKit (and the
#                DAEImageIO module it imports): the
#                `architecture` and `configuration` metadata, format_version and
#                optimizer_step, and whole files (see Fuzz/Targets/CheckpointFuzz.swift)
#
# Each target is built with plain swiftc, not SwiftPM: DAELayers' sources are
# compiled once into one instrumented object (-sanitize=fuzzer,address, -O
# with all Swift runtime checks kept), its C kernels (Sources/CDirectKernels)
# into another by clang with ASan, and each harness in Fuzz/Targets/ is
# linked against both (the IDX harness is compiled together with DAEKit's IDX
# reader, which needs nothing else from DAEKit; the checkpoint harness with all
# of DAEKit, against DAEImageIO built as its own instrumented module).
# libFuzzer supplies main().
#
# Seeds: the committed valid files in Fuzz/corpus/<target>/ (read only).
# The growing corpus is kept in $FUZZ_OUT/corpus/<target>/ between runs.
# A crash (trap, sanitizer report, leak, timeout > 10 s, > 2 GB RSS) stops
# the target, its input is saved as $FUZZ_OUT/crashes/<target>/crash-<sha1>,
# and the script exits 1 after running the remaining targets.
# Reproduce one:  .build-fuzz/fuzz-<target> <crash-file>
#
# Environment: FUZZ_OUT (default .build-fuzz), FUZZ_JOBS (libFuzzer -fork
# workers, default 1), SWIFTC (default swiftc).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors idx image checkpoint)
out=${FUZZ_OUT:-.build-fuzz}
swiftc=${SWIFTC:-swiftc}
mkdir -p "$out"

blas_cflags=$(pkg-config --cflags openblas 2>/dev/null || echo "-I/usr/include/x86_64-linux-gnu/openblas-pthread/")
blas_libs=$(pkg-config --libs openblas 2>/dev/null || echo "-lopenblas")
cflags=()
for flag in $blas_cflags; do cflags+=(-Xcc "$flag"); done
common=(-parse-as-library -sanitize=fuzzer,address -O -g -package-name DenoisingAutoencoder
        -I Sources/COpenBLAS -I Sources/CZlib -I Sources/CDirectKernels/include "${cflags[@]}")
clang=${CLANG:-$(dirname "$(command -v "$swiftc")")/clang}

# Rebuild only when a source changed.
newer_than() { # $1 = output, rest = inputs
    local output=$1; shift
    [ -e "$output" ] || return 0
    [ -n "$(find "$@" -newer "$output" -print -quit)" ]
}

mapfile -t layers_sources < <(find Sources/DAELayers -name "*.swift" | sort)
files_sources=(Sources/DAEFiles/*.swift)
mapfile -t imageio_sources < <(find Sources/DAEImageIO -name "*.swift" | sort)
mapfile -t kit_sources < <(find Sources/DAEKit -name "*.swift" | sort)
kernel_sources=(Sources/CDirectKernels/*.c Sources/CDirectKernels/include/*)
if newer_than "$out/DAELayers.o" "${layers_sources[@]}" "${kernel_sources[@]}" "$0"; then
    echo "== building DAELayers (instrumented)"
    # DAELayers' C target (the AVX2 direct loops, the Winograd GEMMs and transforms), with AddressSanitizer, as one object.
    kernel_objects=()
    for source in Sources/CDirectKernels/*.c; do
        "$clang" -fsanitize=address -O2 -g -I Sources/CDirectKernels/include -c "$source" -o "$out/$(basename "$source" .c).o"
        kernel_objects+=("$out/$(basename "$source" .c).o")
    done
    ld -r "${kernel_objects[@]}" -o "$out/CDirectKernels.o"
    "$swiftc" "${common[@]}" -module-name DAELayers -wmo -c "${layers_sources[@]}" \
        -emit-module -emit-module-path "$out/DAELayers.swiftmodule" -o "$out/DAELayers.o"
fi

# DAEFiles (safetensors, atomic writes, regular files) as a module, instrumented: every target imports it.
if newer_than "$out/DAEFiles.o" "${files_sources[@]}" "$out/DAELayers.o" "$0"; then
    echo "== building DAEFiles (instrumented)"
    "$swiftc" "${common[@]}" -I "$out" -module-name DAEFiles -wmo -c "${files_sources[@]}" \
        -emit-module -emit-module-path "$out/DAEFiles.swiftmodule" -o "$out/DAEFiles.o"
fi

# The image codecs' C shim, instrumented, for the image target.
if newer_than "$out/CImageCodecs.o" Sources/CImageCodecs/*.c Sources/CImageCodecs/include/* "$0"; then
    "$clang" -fsanitize=address -O1 -g -I Sources/CImageCodecs/include -c Sources/CImageCodecs/image_codecs.c \
        -o "$out/CImageCodecs.o"
fi

# DAEImageIO as a module, instrumented, for the checkpoint target (DAEKit imports it).
build_imageio() {
    if newer_than "$out/DAEImageIO.o" "${imageio_sources[@]}" "$out/DAEFiles.o" "$0"; then
        echo "== building DAEImageIO (instrumented)"
        "$swiftc" "${common[@]}" -I Sources/CImageCodecs/include -I Sources/CPNG -I "$out" -module-name DAEImageIO -wmo \
            -c "${imageio_sources[@]}" -emit-module -emit-module-path "$out/DAEImageIO.swiftmodule" -o "$out/DAEImageIO.o"
    fi
}

build_target() { # name, module, harness, extra sources...
    local name=$1 module=$2; shift 2
    local binary="$out/fuzz-$name"
    if newer_than "$binary" "$@" "$out/DAEFiles.o"; then
        echo "== building fuzz-$name"
        # shellcheck disable=SC2086
        # (ld.gold warns once per ASan helper symbol; those warnings are harmless.)
        "$swiftc" "${common[@]}" "${extra_flags[@]}" -module-name "$module" -I "$out" "$@" "$out/DAELayers.o" "$out/DAEFiles.o" "$out/CDirectKernels.o" \
            $blas_libs -llapacke -lz "${extra_objects[@]}" -o "$binary" 2> >(grep -v "Cannot export local symbol '__asan" >&2)
    fi
}

status=0
for target in "${targets[@]}"; do
    extra_objects=() extra_flags=()
    case $target in
        safetensors) build_target safetensors FuzzSafetensors Fuzz/Targets/SafetensorsFuzz.swift; max_len=4096 ;;
        idx) build_target idx FuzzIDX Fuzz/Targets/IDXFuzz.swift \
                 Sources/DAEKit/Data/IDXFile.swift Sources/DAEKit/Data/IDXHeader.swift \
                 Sources/DAEKit/Data/GzipInflater.swift; max_len=4096 ;;
        image) extra_objects=("$out/CImageCodecs.o" -lpng16 -ljpeg)
               extra_flags=(-I Sources/CImageCodecs/include -I Sources/CPNG)
               build_target image FuzzImage Fuzz/Targets/ImageFuzz.swift \
                   Sources/DAEImageIO/ImageReader.swift Sources/DAEImageIO/ImageReaderLimits.swift \
                   Sources/DAEImageIO/ExifOrientation.swift Sources/DAEImageIO/SampleConversion.swift \
                   Sources/DAEImageIO/CMessage.swift Sources/DAEImageIO/Image.swift Sources/DAEImageIO/PNG.swift; max_len=32768 ;;
        checkpoint) build_imageio
               extra_objects=("$out/DAEImageIO.o" "$out/CImageCodecs.o" -lpng16 -ljpeg)
               extra_flags=(-I Sources/CImageCodecs/include -I Sources/CPNG)
               build_target checkpoint FuzzCheckpoint Fuzz/Targets/CheckpointFuzz.swift \
                 "${kit_sources[@]}"; max_len=4096 ;;
        *) echo "unknown target '$target' (safetensors, idx, image, checkpoint)" >&2; exit 2 ;;
    esac
    corpus="$out/corpus/$target" crashes="$out/crashes/$target" log="$out/fuzz-$target.log"
    mkdir -p "$corpus" "$crashes"
    echo "== fuzzing $target for $seconds s (log: $log)"
    set +e
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
    "$out/fuzz-$target" "$corpus" "Fuzz/corpus/$target" \
        -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$crashes/" \
        ${FUZZ_JOBS:+-fork=$FUZZ_JOBS} >"$log" 2>&1
    rc=$?
    set -e
    executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    echo "   $target: exit $rc, ${executions:-?} executions, $(ls "$crashes" | wc -l) crash inputs in $crashes," \
         "corpus $(ls "$corpus" | wc -l) files"
    if [ $rc -ne 0 ]; then
        status=1
        grep -E 'ERROR|SUMMARY|Fatal error|Test unit written' "$log" | head -20 >&2 || true
    fi
done
exit $status
