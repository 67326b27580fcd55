#!/usr/bin/env bash
# Retracts images a site sent by mistake from a deployment that is running (docker compose, or services on other
# hosts): one DELETE /images/{imageId} per image, asked again while ingest is away (502, 503, 504, no answer) for
# --wait in all. Prints "<id> retracted" (or "already retracted", or why not) per image; exits 2 when any was not.
#
#   CXR_API_TOKEN=<token> bin/retract.sh IMAGE_ID... [--reason WRONG_PATIENT|WRONG_IMAGE|OTHER]
#                                        [--ingest-url URL (default http://127.0.0.1:8090)] [--wait PT1M]
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
source bin/common.sh
build_if_needed
run_java org.cxrtriage.launcher.CxrCli retract "$@"
