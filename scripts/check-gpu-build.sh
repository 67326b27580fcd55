#!/usr/bin/env bash
# The GPU images (docker-compose.gpu.yml) copy each service's dependencies with `mvn -Pgpu -pl <service>`, one
# service at a time: every service that runs libtorch must list DJL's CUDA native itself, because a dependency's
# profiles (model's gpu profile) are not switched on by -P. Reads the dependency trees only (POMs from Maven
# Central on first use; the 2.46 GB jar is not downloaded). Needs the modules installed (mvn install).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
services=preprocess-service,inference-service,similarity-service
if ! out=$(mvn -B -Pgpu -pl "$services" dependency:tree -Dincludes=ai.djl.pytorch:pytorch-native-cu124 2>&1); then
  echo "$out" | tail -20 >&2
  exit 1
fi
found=$(grep -c "pytorch-native-cu124:jar" <<<"$out" || true)
if [[ $found != 3 ]]; then
  echo "check-gpu-build: DJL's CUDA native reaches $found of the 3 services ($services) under -Pgpu" >&2
  exit 1
fi
echo "check-gpu-build: DJL's CUDA native reaches all 3 services under -Pgpu"
