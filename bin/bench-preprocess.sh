#!/usr/bin/env bash
# Preprocessing cost per image on the full-resolution X-rays (decode / normalise / lung channel, at 256 and 1024),
# with the ratios against the 80 ms target (decode + normalise) and the 60 ms limit (lung U-Net on a 256 plane, one
# core: PyTorch intra-op threads 1); writes bench-preprocess.md. Needs no broker.
#
#   bin/bench-preprocess.sh [--images DIR] [--runs N] [--lungs unet|heuristic] [--lung-model-dir DIR]
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
source bin/common.sh
build_if_needed
run_java org.cxrtriage.launcher.CxrCli bench-preprocess "$@"
