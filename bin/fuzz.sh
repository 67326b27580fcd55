#!/usr/bin/env bash
# Coverage-guided fuzzing (Jazzer) of everything that parses untrusted image bytes: each @FuzzTest of
# imaging's ImagingFuzzTest (probe, decode, dicom, strip) fuzzes for the given seconds, seeded with the bad-input corpus.
# A finding fails the run; Jazzer then writes the input to
# imaging/src/test/resources/org/cxrtriage/imaging/ImagingFuzzTestInputs/<target>/ - commit it with the fix, and every
# normal build replays it (regression mode). Needs no stack and no network once the dependencies are in ~/.m2.
#
#   bin/fuzz.sh [seconds per target, default 45] [target ...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-45}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(probe decode dicom strip)
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: bin/fuzz.sh [seconds] [probe|decode|dicom|strip ...]" >&2; exit 2; }

# Only one @FuzzTest fuzzes per JVM, so one Maven run per target. The duration goes to libFuzzer as a trailing
# -max_total_time, which overrides the annotation's default. The heap is bounded: Jazzer turns libFuzzer's RSS limit
# off, and an input that makes a parser allocate without bound must fail as an OutOfMemoryError, not swap.
status=0
for target in "${targets[@]}"; do
  echo "fuzz: ImagingFuzzTest#$target for ${seconds}s" >&2
  if ! JAZZER_FUZZ=1 mvn -B -q -Dstyle.color=never -pl imaging test \
      -Dtest="ImagingFuzzTest#$target" -Dsurefire.failIfNoSpecifiedTests=false \
      -DargLine="-Xmx1g" -DskipMemoryTest=true \
      -Djazzer.internal.arg.0=fake_argv0 -Djazzer.internal.arg.1="-max_total_time=$seconds"; then
    echo "fuzz: ImagingFuzzTest#$target FOUND A FAILURE (see above and imaging/src/test/resources/.../ImagingFuzzTestInputs/$target)" >&2
    status=1
  fi
done
exit $status
