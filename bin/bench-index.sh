#!/usr/bin/env bash
# Neighbour-index benchmark on synthetic 128-d embeddings: exact vs HNSW query latency, recall@4, build and
# rebuild-from-Redis time; writes bench-index.md. Uses $REDIS_URL (default redis://127.0.0.1:6379).
#
#   bin/bench-index.sh [--sizes 100000,1000000] [--queries N] [--distribution model-like|isotropic]
#                      [--max-conn 12] [--beam-width 32] [--ef 32,64,100] [--from-memory]
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
source bin/common.sh
build_if_needed
JAVA_OPTS=${JAVA_OPTS:--Xmx8g} run_java org.cxrtriage.launcher.CxrCli bench-index "$@"
