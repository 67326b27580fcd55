#!/usr/bin/env bash
# Benchmark: raw model and preprocessing speed (the limit) vs the whole pipeline through the real broker, registry
# and Redis, in one run; prints the table with the ratios and writes bench-results.md.
#
#   bin/bench.sh [--count N] [--warmup N (default 2000)] [--half-load-warmup PASSES (default 4)] [--images DIR]
#                [--broker-warmup-seconds S (default 60)] [--latency-load FRACTION (default 0.5)] [--instances 1,2]
#                [--soak-minutes M] [--preprocess-nice N (default 3)]
# SERVICE_JFR_DIR=DIR makes every service JVM write a Flight Recorder profile (DIR/NAME.jfr).
# SERVICE_JVM_OPTS="..." adds JVM options to every service JVM (e.g. -XX:NativeMemoryTracking=summary).
# Services run as separate JVMs (HTTP ports from 28190); their logs go to bench-logs/ beside the --out file.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
source bin/common.sh
build_if_needed
stack_up
eval "$(scripts/stack.sh env)"
# the client's JIT compiler threads stay for its life, so the table's JIT row counts them (as the services' do)
JAVA_OPTS="${JAVA_OPTS:--Xmx3g} -XX:-UseDynamicNumberOfCompilerThreads" run_java org.cxrtriage.launcher.CxrCli bench "$@"
