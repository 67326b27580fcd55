#!/usr/bin/env bash
# Fault-injection suite: streams real X-rays through the four services (each its own JVM) on an isolated stack of
# its own (folder .stack-faults, ports 29092/29093/28081/29000/26379), kills -9 and restarts each service in turn,
# the broker and Redis during the run, then checks that every accepted image was scored exactly once or rejected
# with a reason, that every positive patient has exactly one alert and that the case index holds every case.
#
#   bin/faults.sh [--count N] [--rate IMAGES_PER_S] [--images DIR] [--out DIR]
# Full run: 300 images (the default); CI runs the short form (bin/test.sh: --count 40, FAULTS_COUNT).
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
source bin/common.sh

export STACK_DIR=${FAULTS_STACK_DIR:-$REPO_ROOT/.stack-faults}
export KAFKA_PORT=${FAULTS_KAFKA_PORT:-29092}
export KAFKA_CONTROLLER_PORT=${FAULTS_KAFKA_CONTROLLER_PORT:-29093}
export REGISTRY_PORT=${FAULTS_REGISTRY_PORT:-28081}
export REGISTRY_MANAGEMENT_PORT=${FAULTS_REGISTRY_MANAGEMENT_PORT:-29000}
export REDIS_PORT=${FAULTS_REDIS_PORT:-26379} # our own Redis: the suite kills it

build_if_needed
trap 'scripts/stack.sh stop >&2 || true' EXIT
scripts/stack.sh start
eval "$(scripts/stack.sh env)"
JAVA_OPTS=${JAVA_OPTS:--Xmx1g} run_java org.cxrtriage.launcher.CxrCli faults "$@"
