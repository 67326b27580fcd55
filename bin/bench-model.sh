#!/usr/bin/env bash
# The model limit alone: forward-pass throughput and latency of the classifier per batch size and of the lung U-Net on
# one plane, on GPU 0 when DJL sees one (then also on the CPU, with the GPU's outputs checked against the CPU's) and on
# the CPU; writes bench-model.md. Needs no broker.
#
#   bin/bench-model.sh [--batch-sizes 1,4,16,64] [--seconds S] [--cpu-threads N] [--model-dir DIR] [--seeded]
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
source bin/common.sh
build_if_needed
run_java org.cxrtriage.launcher.CxrCli bench-model "$@"
