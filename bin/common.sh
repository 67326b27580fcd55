# Shared by bin/*.sh: building the launcher and starting/stopping the local stack.

# Builds the modules when the launcher's jars are missing or any source is newer than them.
build_if_needed() {
  local stamp=launcher/target/lib/.built
  if [[ ! -f $stamp ]] || [[ -n $(find pom.xml ./*/pom.xml ./*/src -newer "$stamp" -type f -print -quit 2>/dev/null) ]]; then
    echo "building (mvn -DskipTests install)..." >&2
    mvn -B -q -Dstyle.color=never -DskipTests install
    touch "$stamp"
  fi
}

# Starts the stack and stops it on exit if this script started it (a stack that was already up is left running).
stack_up() {
  if scripts/stack.sh status >/dev/null 2>&1; then
    echo "local stack already running; leaving it up afterwards" >&2
  else
    trap 'scripts/stack.sh stop >&2 || true' EXIT
    scripts/stack.sh start
  fi
}

# Runs a class from the launcher's classpath with the JVM settings the services need.
# The allocator is glibc's: jemalloc (with or without returning freed pages) was no faster for the model or the
# preprocessing, and it let the inference worker's resident memory creep (README, "Native memory").
run_java() {
  # libtorch 2.7 prints "Could not initialize NNPACK! Reason: Unsupported hardware." to stderr for small batch-1
  # convolutions on CPUs NNPACK does not support (several lines per image for the lung U-Net); nothing can switch
  # it off from DJL, so those lines are dropped here and everything else on stderr passes through.
  # jdk.incubator.vector: vectorised distances in the neighbour index (similarity service, bench-index), where the
  # runtime has the module (a JRE may leave it out; the index then uses Lucene's scalar code).
  local vector=
  if [[ $(java --list-modules 2>/dev/null) == *jdk.incubator.vector@* ]]; then vector=--add-modules=jdk.incubator.vector; fi
  # -XX:-UseCodeCacheFlushing: Java 17's code-cache sweeper throws out compiled code it thinks cold, and recompiling
  # it came in bursts that held up clusters of images (README, "p99 latency"); the services' JVMs run without it too.
  # shellcheck disable=SC2086 # $vector is one flag or nothing
  OPT_OUT_TRACKING=true java ${JAVA_OPTS:--Xmx3g} -XX:-UseCodeCacheFlushing -Dai.djl.offline=true $vector \
    -Dorg.apache.avro.SERIALIZABLE_PACKAGES=org.cxrtriage \
    -cp "launcher/target/launcher-0.1.0-SNAPSHOT.jar:launcher/target/lib/*" "$@" \
    2> >(grep --line-buffered -v 'Could not initialize NNPACK' >&2)
}
