#!/usr/bin/env bash
# Runs `cxr bench-model` (the Java classifier and lung U-Net through DJL) on a GPU host from the kit that
# bench/gpu/java-kit.sh packs, against the host's own libtorch: DJL's JNI must match its libtorch exactly, so this first
# compiles bench/gpu/djl-jni (the natives our networks use) against that libtorch and puts it where DJL looks first.
# Then the same networks in PyTorch directly on the same GPU in the same session (bench/gpu/model_limit.py): the limit
# DJL is held to. Results go to $OUT. TORCH_DIR overrides python3's torch (e.g. an unpacked CPU wheel, to try it here).
set -uo pipefail
OUT=${OUT:-$PWD/bench-model-gpu}
mkdir -p "$OUT"
KIT=launcher/target/gpu-kit
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null
TORCH_DIR=${TORCH_DIR:-$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')}
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>/dev/null
TORCH_VERSION=$(sed -n "s/^__version__ = '\([0-9.]*\).*/\1/p" "$TORCH_DIR/version.py")
echo "libtorch $TORCH_VERSION at $TORCH_DIR; $(g++ --version | head -1)"
# DJL loads every library in PYTORCH_LIBRARY_PATH and looks there first for its JNI: a folder of links to the host's
# libtorch with the JNI built against it beside them.
LIBDIR=/tmp/djl-torchlib
rm -rf "$LIBDIR" && mkdir -p "$LIBDIR"
for lib in "$TORCH_DIR"/lib/*.so*; do
    case $(basename "$lib") in libtorch_python*|*test*|libbackend_with_compiler*|libaoti_custom_ops*) ;; *) ln -s "$lib" "$LIBDIR/" ;; esac
done
start=$(date +%s)
TORCH_DIR="$TORCH_DIR" bench/gpu/djl-jni/build.sh "$LIBDIR" || exit 1
echo "JNI built in $(( $(date +%s) - start )) s"
CUDART=$(find "$(dirname "$TORCH_DIR")/nvidia" -name 'libcudart.so*' 2>/dev/null | head -1)
tar xzf "$KIT/jre.tgz" -C /tmp
# The CUDA libraries of the pip install, which libtorch finds through paths relative to its own folder.
NVLIBS=$(find "$(dirname "$TORCH_DIR")/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH="$TORCH_DIR/lib:$NVLIBS${LD_LIBRARY_PATH:-}"
export PYTORCH_LIBRARY_PATH="$LIBDIR" PYTORCH_VERSION="$TORCH_VERSION" DJL_CACHE_DIR=/tmp/djl-cache
[ -n "$CUDART" ] && export PYTORCH_FLAVOR=cu || export PYTORCH_FLAVOR=cpu
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
bench bench-model || exit 1
[ -n "$CUDART" ] || exit 0
BATCH_SIZES=1,16,64 SECONDS_PER_ROW=2 bench bench-model-cudnn-benchmark -Dai.djl.pytorch.cudnn_benchmark=true
timeout 150 python3 bench/gpu/model_limit.py "$OUT/pytorch" > "$OUT/pytorch.log" 2>&1
echo "== pytorch: exit $?"
cat "$OUT/pytorch/model-limit.md" 2>/dev/null | head -40
