#!/usr/bin/env bash
# Runs `cxr bench-model` (the Java classifier and lung U-Net through DJL) on a GPU host from the kit that
# bench/gpu/java-kit.sh packs, against the host's pip libtorch: DJL 0.36's CUDA JNI (built for libtorch 2.7.1,
# cu128) is loaded beside whatever libtorch the host has, so the first lines print what that is. Results go to $OUT.
set -uo pipefail
OUT=${OUT:-$PWD/bench-model-gpu}
mkdir -p "$OUT"
KIT=launcher/target/gpu-kit
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
TORCH_DIR=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cxx11 abi", torch.compiled_with_cxx11_abi())'
ls "$TORCH_DIR/lib"
CUDART=$(find "$(dirname "$TORCH_DIR")/nvidia" -name 'libcudart.so*' 2>/dev/null | head -1)
echo "cudart: $CUDART"
tar xzf "$KIT/jre.tgz" -C /tmp
# Every CUDA library directory of the pip install, for the JNI's dependencies however they are found.
NVLIBS=$(find "$(dirname "$TORCH_DIR")/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH="$TORCH_DIR/lib:$NVLIBS${LD_LIBRARY_PATH:-}"
export PYTORCH_LIBRARY_PATH="$TORCH_DIR/lib" PYTORCH_VERSION=2.7.1 PYTORCH_FLAVOR=cu128 DJL_CACHE_DIR=/tmp/djl-cache
bench() { # name, extra JVM options...
    local name=$1
    shift
    timeout "${BENCH_TIMEOUT:-240}" /tmp/jre/bin/java -Djna.library.path="$(dirname "${CUDART:-/nonexistent/x}")" \
        -Dai.djl.offline=true "$@" -cp "$KIT/lib/*" org.cxrtriage.launcher.ModelBenchCommand --seeded \
        --batch-sizes "${BATCH_SIZES:-1,4,16,64,256}" --seconds "${SECONDS_PER_ROW:-3}" --out "$OUT/$name.md" \
        > "$OUT/$name.log" 2>&1
    local rc=$?
    echo "== $name: java exit $rc"
    grep -v NNPACK "$OUT/$name.log" | tail -40
    return $rc
}
# DJL's defaults first, then with cuDNN's autotuner (PyTorch's benchmark mode, as bench/gpu/model_limit.py runs).
ok=0
bench bench-model && ok=1
JNI=$(find /tmp/djl-cache ~/.djl.ai -path '*cu128*' -name '*libdjl_torch.so' 2>/dev/null | head -1)
echo "== JNI $JNI against this libtorch (undefined symbols, missing libraries):"
[ -n "$JNI" ] && ldd -r "$JNI" 2>&1 | grep -E "undefined|not found" | head -20
if [ $ok = 0 ]; then
    # Again with only the libraries the JNI links to, in case another file in torch/lib is what failed to load.
    mkdir -p /tmp/torchlib
    for lib in "$TORCH_DIR"/lib/libc10.so "$TORCH_DIR"/lib/libc10_cuda.so "$TORCH_DIR"/lib/libtorch.so \
            "$TORCH_DIR"/lib/libtorch_cpu.so "$TORCH_DIR"/lib/libtorch_cuda.so "$TORCH_DIR"/lib/libgomp*; do
        [ -e "$lib" ] && ln -sf "$lib" /tmp/torchlib/
    done
    PYTORCH_LIBRARY_PATH=/tmp/torchlib BATCH_SIZES=1,16 SECONDS_PER_ROW=2 bench bench-model-own-libdir && ok=1
fi
if [ $ok = 1 ]; then
    BATCH_SIZES=1,16,64 SECONDS_PER_ROW=2 bench bench-model-cudnn-benchmark -Dai.djl.pytorch.cudnn_benchmark=true
    # The same networks in PyTorch directly on the same GPU in the same session: the limit DJL is held to.
    timeout 150 python3 bench/gpu/model_limit.py "$OUT/pytorch" > "$OUT/pytorch.log" 2>&1
    echo "== pytorch: exit $?"
    cat "$OUT/pytorch/model-limit.md" 2>/dev/null | head -40
fi
