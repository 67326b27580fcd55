#!/usr/bin/env bash
# Builds libdjl_torch.so from djl_torch_subset.cc against a libtorch (the `torch` folder of a pip install, or an
# unpacked libtorch): TORCH_DIR (default: python3's torch) and JNI_INCLUDE (a JDK's include folder, with linux/ inside;
# default: launcher/target/gpu-kit/jni-include when bench/gpu/java-kit.sh has packed it, else $JAVA_HOME's).
#   bench/gpu/djl-jni/build.sh OUTPUT_DIR
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT_DIR=${1:?output folder}
TORCH_DIR=${TORCH_DIR:-$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')}
KIT_JNI=$HERE/../../../launcher/target/gpu-kit/jni-include
[ -d "$KIT_JNI" ] && DEFAULT_JNI=$KIT_JNI || DEFAULT_JNI=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}/include
JNI_INCLUDE=${JNI_INCLUDE:-$DEFAULT_JNI}
mkdir -p "$OUT_DIR"
libs=(-ltorch -ltorch_cpu -lc10)
# A CUDA build of libtorch: link its CUDA libraries so that the GPU is usable however the JVM loads them.
[ -e "$TORCH_DIR/lib/libtorch_cuda.so" ] && libs+=(-Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed)
g++ -O2 -std=c++17 -shared -fPIC -D_GLIBCXX_USE_CXX11_ABI=1 \
    -isystem "$TORCH_DIR/include" -isystem "$TORCH_DIR/include/torch/csrc/api/include" \
    -I"$JNI_INCLUDE" -I"$JNI_INCLUDE/linux" \
    "$HERE/djl_torch_subset.cc" -L"$TORCH_DIR/lib" "${libs[@]}" -Wl,-rpath,"$TORCH_DIR/lib" \
    -o "$OUT_DIR/libdjl_torch.so"
echo "built $OUT_DIR/libdjl_torch.so against $TORCH_DIR"
