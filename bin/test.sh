#!/usr/bin/env bash
# Runs every test: unit tests, TopologyTestDriver tests and the end-to-end tests through a real Kafka broker,
# Apicurio Registry and Redis. Starts its own isolated stack (separate folder and ports, its own redis-server) and
# stops it afterwards, so it never touches a stack you are running.
#
#   bin/test.sh [extra mvn args]
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

export STACK_DIR=${TEST_STACK_DIR:-$REPO_ROOT/.stack-test}
export KAFKA_PORT=${TEST_KAFKA_PORT:-19092}
export KAFKA_CONTROLLER_PORT=${TEST_KAFKA_CONTROLLER_PORT:-19093}
export REGISTRY_PORT=${TEST_REGISTRY_PORT:-18081}
export REGISTRY_MANAGEMENT_PORT=${TEST_REGISTRY_MANAGEMENT_PORT:-19000}
export REDIS_PORT=${TEST_REDIS_PORT:-16379}

trap 'scripts/stack.sh stop >&2 || true' EXIT
scripts/stack.sh start
eval "$(scripts/stack.sh env)"
mvn -B -Dstyle.color=never install "$@"
touch launcher/target/lib/.built # the jars just built are current: bin/faults.sh need not rebuild
# The GPU images get DJL's CUDA native (docker-compose.gpu.yml; no GPU needed to check).
if [[ $# -eq 0 ]]; then
  scripts/check-gpu-build.sh
fi

# Short form of the fault-injection suite (its own stack; the full run is bin/faults.sh with 300 images).
if [[ $# -eq 0 && ${SKIP_FAULTS:-} != 1 ]]; then
  scripts/stack.sh stop >&2 # free the test stack's memory and cores first
  bin/faults.sh --count ${FAULTS_COUNT:-40} --rate 4 --out target/faults-ci
fi
# Short coverage-guided fuzzing of the image parsers (bin/fuzz.sh 300 for a longer run).
if [[ $# -eq 0 && ${SKIP_FUZZ:-} != 1 ]]; then
  bin/fuzz.sh ${FUZZ_SECONDS:-20}
fi
