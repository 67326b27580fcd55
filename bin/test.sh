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
