#!/usr/bin/env bash
# Preprocessing cost per image on the full-resolution X-rays (decode / normalise / lung channel, at 256 and 1024),
# with the ratio against the 80 ms target; writes bench-preprocess.md. Needs no broker.
#
#   bin/bench-preprocess.sh [--images DIR] [--runs N]
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
source bin/common.sh
build_if_needed
run_java org.cxrtriage.launcher.CxrCli bench-preprocess "$@"
