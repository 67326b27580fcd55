#!/usr/bin/env bash
# Checks djl_torch_subset.cc without a GPU: builds it against a CPU libtorch of another version than DJL's (a pip
# wheel's `torch` folder, unpacked) and runs the model module's tests through it (the classifier and U-Net forward
# passes, save/load round trips, batch-norm folding, seeded weights). A native the tests need that is missing here
# fails them with UnsatisfiedLinkError. Needs `mvn install` done once.
#   bench/gpu/djl-jni/check-on-cpu.sh TORCH_WHEEL_OR_TORCH_DIR
set -euo pipefail
cd "$(dirname "$0")/../../.."
SOURCE=${1:?a torch wheel (.whl) or its unpacked torch folder}
work=$(mktemp -d)
LIBDIR=$(mktemp -d)
trap 'rm -rf "$work" "$LIBDIR"' EXIT
if [ -f "$SOURCE" ]; then
    unzip -q "$SOURCE" 'torch/lib/*' 'torch/include/*' 'torch/version.py' -d "$work"
    TORCH_DIR=$work/torch
else
    TORCH_DIR=$SOURCE
fi
for lib in libc10.so libtorch.so libtorch_cpu.so libtorch_global_deps.so libgomp.so.1; do
    [ -e "$TORCH_DIR/lib/$lib" ] && ln -s "$TORCH_DIR/lib/$lib" "$LIBDIR/"
done
TORCH_DIR="$TORCH_DIR" bench/gpu/djl-jni/build.sh "$LIBDIR"
VERSION=$(sed -n "s/^__version__ = '\([0-9.]*\).*/\1/p" "$TORCH_DIR/version.py")
echo "model tests through the subset JNI on libtorch $VERSION (CPU)"
PYTORCH_LIBRARY_PATH=$LIBDIR PYTORCH_VERSION=$VERSION PYTORCH_FLAVOR=cpu mvn -B -o -pl model surefire:test
