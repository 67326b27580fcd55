#!/usr/bin/env bash
# Sends a folder of X-rays to a deployment that is already running (docker compose, or services on other hosts)
# over HTTP, as modalities do; with --similarity-url waits until each accepted image is indexed as a case.
# Relative paths are taken from the repository root, as in the other bin/ scripts.
#
#   CXR_API_TOKEN=<token> bin/send.sh [--images DIR] [--limit N] [--ingest-url URL (default http://127.0.0.1:8090)]
#                                     [--similarity-url URL] [--site SITE] [--wait PT10M]
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
source bin/common.sh
build_if_needed
run_java org.cxrtriage.launcher.CxrCli send "$@"
