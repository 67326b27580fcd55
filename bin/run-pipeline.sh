#!/usr/bin/env bash
# The main job: build what is needed, start the local stack (Kafka, registry, Redis), run every service, stream a
# folder of X-rays through them and print each image's probability, call, 4 similar prior cases and the alerts;
# then stop everything this script started.
#
#   bin/run-pipeline.sh [IMAGES_DIR] [launcher options, e.g. --limit 100; --dashboard to watch the alerts live]
#
# IMAGES_DIR defaults to ../shared/data/cxr/images (or $CXR_IMAGES). See README for the environment variables.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
# shellcheck source=bin/common.sh
source bin/common.sh

images=${CXR_IMAGES:-../shared/data/cxr/images}
if [[ $# -gt 0 && $1 != -* ]]; then images=$1; shift; fi
[[ -d $images ]] || { echo "run-pipeline: no such folder: $images" >&2; exit 1; }

build_if_needed
# Results go to stdout and progress to stderr; service logs would drown the progress line.
export LOG_LEVEL=${LOG_LEVEL:-WARN}
stack_up
eval "$(scripts/stack.sh env)"
set +e
run_java org.cxrtriage.launcher.CxrCli run --images "$images" "$@"
rc=$?
set -e
exit $rc
