#!/usr/bin/env bash
# Local infrastructure for CXR Triage Stream: Kafka (KRaft), Apicurio Registry, Redis.
#
#   scripts/stack.sh start              fetch (first time only) and start everything; no-op if already up
#   scripts/stack.sh stop [--keep-data] stop what this script started; wipes Kafka data unless --keep-data
#                                       (the registry is in-memory either way: records kept with
#                                       --keep-data carry schema ids the fresh registry lacks or
#                                       maps to other schemas)
#   scripts/stack.sh status             one line per component; exit 0 if all up, 3 otherwise
#   scripts/stack.sh env                export lines for clients:  eval "$(scripts/stack.sh env)"
#   scripts/stack.sh crash kafka|redis  kill -9 one server and start it again on the same port (fault
#                                       injection): Kafka keeps its data; Redis, which keeps nothing on
#                                       disk, comes back empty
#
# Environment (all optional):
#   STACK_DIR (<repo>/.stack)  KAFKA_PORT (9092)  KAFKA_CONTROLLER_PORT (9093)  REGISTRY_PORT (8081)
#   REGISTRY_MANAGEMENT_PORT (9000)  REDIS_HOST (127.0.0.1)  REDIS_PORT (6379)
#   JAVA_HOME (java for Kafka, >= 17)  JAVA21_HOME (java for Apicurio, >= 21)
#   KAFKA_HEAP ("-Xms256m -Xmx512m")  KAFKA_GC ("-XX:+UseG1GC -XX:MaxGCPauseMillis=20")
#   REGISTRY_HEAP ("-Xms64m -Xmx384m")
#   KAFKA_EXTRA_PROPERTIES (broker settings appended to server.properties, "key=value key=value")
#   STACK_MVN_ARGS (extra mvn args, e.g. -o or -Dmaven.repo.local=...)
# A port given explicitly that is busy is an error; a busy *default* port is replaced by a free one,
# which is recorded and shown by `status`/`env`.
# Progress goes to stderr; only `env` and `status` write to stdout.
set -euo pipefail

KAFKA_VERSION=4.4.0
LOG4J_VERSION=2.26.1
APICURIO_VERSION=3.3.3
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

# Resolve the repo from this file's location so the script works from any cwd.
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
STACK_DIR=${STACK_DIR:-$REPO_ROOT/.stack}
KDIR=$STACK_DIR/kafka
ADIR=$STACK_DIR/apicurio
RDIR=$STACK_DIR/redis
REDIS_HOST=${REDIS_HOST:-127.0.0.1}

log() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- process + port helpers
# A pid counts as ours only if it is alive AND its command line carries our marker
# (-Dcxr.stack=<name>, or the redis pid file we wrote), so a recycled pid is never killed.
pid_of() { # <pidfile> <marker> -> prints pid if that process is alive and ours
  local f=$1 marker=$2 pid
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker" || return 1
  echo "$pid"
}

port_busy() { # is anything listening on TCP port $1 (any address)?
  if command -v ss >/dev/null; then
    [[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

PICKED=" "
pick_port() { # <VAR name> <default> -> sets PORT (no subshell, so PICKED is remembered)
  local var=$1 def=$2 p
  if [[ -n ${!var:-} ]]; then # explicitly requested: use it or fail
    p=${!var}
    port_busy "$p" && die "$var=$p is already in use by another process (see: ss -tlnp 'sport = :$p')"
  else
    p=$def
    while port_busy "$p" || [[ $PICKED == *" $p "* ]]; do p=$((p + 1)); done
    ((p - def > 200)) && die "no free port found near $def for $var"
    [[ $p != "$def" ]] && log "$var: default $def is taken, using $p"
  fi
  PICKED+="$p "
  PORT=$p
}

stop_pid() { # <pid> <name> <grace seconds>: SIGTERM, wait, then SIGKILL
  local pid=$1 name=$2 grace=$3 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || { log "$name stopped"; return 0; }
    sleep 0.2
  done
  log "$name did not stop within ${grace}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
}

fail_with_log() { # <message> <logfile>
  printf 'stack: ERROR: %s\n--- last lines of %s ---\n' "$1" "$2" >&2
  tail -n 40 "$2" >&2 2>/dev/null || true
  exit 1
}

java_major() { # <java binary> -> major version (8 for 1.8)
  local v
  v=$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
  [[ $v == 1.* ]] && v=${v#1.}
  echo "${v:-0}"
}

mvn_run() { # run maven quietly in dir $1; show its output only if it fails
  local dir=$1 out
  shift
  command -v mvn >/dev/null || die "maven (mvn) is needed to fetch jars: apt-get install maven"
  # shellcheck disable=SC2086 # STACK_MVN_ARGS is intentionally word-split
  if ! out=$(cd "$dir" && mvn -B -q ${STACK_MVN_ARGS:-} "$@" 2>&1); then
    printf '%s\n' "$out" | tail -n 40 >&2
    die "maven failed in $dir (mvn $*)"
  fi
}

# ---------------------------------------------------------------- Kafka (KRaft, combined node)
KAFKA_MARKER=-Dcxr.stack=kafka

kafka_java() {
  local j=java
  [[ -n ${JAVA_HOME:-} && -x ${JAVA_HOME}/bin/java ]] && j=$JAVA_HOME/bin/java
  command -v "$j" >/dev/null || die "no java found for Kafka (needs >= 17): apt-get install openjdk-17-jre-headless"
  (($(java_major "$j") >= 17)) || die "Kafka $KAFKA_VERSION needs Java >= 17 ($j is $(java_major "$j")); set JAVA_HOME"
  echo "$j"
}

kafka_fetch() {
  [[ -f $KDIR/libs/.complete ]] && return 0
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central (first run only)"
  mkdir -p "$KDIR"
  # Kafka 4.x code logs through slf4j-api 1.7.x and ships log4j2 as its backend; the matching
  # binding is log4j-slf4j-impl (the slf4j-1.x bridge; log4j-slf4j2-impl would need slf4j-api 2.x).
  # log4j-api/core are pinned to one version so the bridge and the core agree.
  cat >"$KDIR/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.stack</groupId><artifactId>kafka-libs</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$KDIR/libs.tmp"
  mvn_run "$KDIR" "$DEP_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory=libs.tmp
  touch "$KDIR/libs.tmp/.complete"
  rm -rf "$KDIR/libs" && mv "$KDIR/libs.tmp" "$KDIR/libs" # atomic: an interrupted fetch is redone
}

kafka_write_config() { # <port> <controller port>
  mkdir -p "$KDIR/data"
  cat >"$KDIR/server.properties" <<EOF
# generated by scripts/stack.sh -- single node, broker and controller in one process
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$2
listeners=PLAINTEXT://127.0.0.1:$1,CONTROLLER://127.0.0.1:$2
advertised.listeners=PLAINTEXT://127.0.0.1:$1
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KDIR/data
# one node: every internal topic must have replication factor 1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
num.partitions=3
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
# images travel inside records: raise the 1 MB default (clients need max.request.size too)
message.max.bytes=33554432
replica.fetch.max.bytes=33554432
EOF
  # Experiments: extra broker settings, one key=value per word (later lines win).
  local kv
  for kv in ${KAFKA_EXTRA_PROPERTIES:-}; do
    echo "$kv" >>"$KDIR/server.properties"
  done
  cat >"$KDIR/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.req.name = kafka.request.logger
logger.req.level = WARN
EOF
}

kafka_probe() { # <port>: send ApiVersions v0 over raw TCP; a serving broker answers corr id 1, error 0
  local resp
  resp=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1
    printf '\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x01\xff\xff' >&3
    head -c 10 <&3 | od -An -tx1" 2>/dev/null | tr -d ' \n') || return 1
  [[ $resp == ????????000000010000 ]]
}

kafka_start() {
  local pid port cport java cid i
  if pid=$(pid_of "$KDIR/kafka.pid" "$KAFKA_MARKER"); then
    log "kafka already running (pid $pid, 127.0.0.1:$(<"$KDIR/port"))"
    return 0
  fi
  pick_port KAFKA_PORT 9092; port=$PORT # ports first: fail fast, before any download
  pick_port KAFKA_CONTROLLER_PORT 9093; cport=$PORT
  java=$(kafka_java)
  kafka_fetch
  kafka_write_config "$port" "$cport"
  if [[ ! -f $KDIR/data/meta.properties ]]; then
    # Cluster id = 16 random bytes, base64url without padding (what `StorageTool random-uuid` prints).
    # One starting with '-' would be read as an option by StorageTool's parser: draw again.
    cid=-
    while [[ $cid == -* ]]; do
      cid=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    done
    "$java" -cp "$KDIR/libs/*" -Dlog4j2.configurationFile="$KDIR/log4j2.properties" \
      kafka.tools.StorageTool format --standalone -t "$cid" -c "$KDIR/server.properties" \
      >"$KDIR/format.log" 2>&1 || fail_with_log "kafka storage format failed" "$KDIR/format.log"
  fi
  echo "$port" >"$KDIR/port"
  echo "$cport" >"$KDIR/controller.port"
  log "starting kafka on 127.0.0.1:$port (controller $cport)"
  # setsid: own session, so the broker survives the caller's shell/CI step ending.
  # -XX:-UseCodeCacheFlushing: as the services' JVMs (bin/common.sh), no bursts of recompiling code that Java 17's
  # code-cache sweeper threw out.
  # shellcheck disable=SC2086 # KAFKA_HEAP may hold several flags
  setsid "$java" $KAFKA_MARKER ${KAFKA_HEAP:--Xms256m -Xmx512m} ${KAFKA_GC:--XX:+UseG1GC -XX:MaxGCPauseMillis=20} \
    -XX:-UseCodeCacheFlushing \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$KDIR/log4j2.properties" \
    -cp "$KDIR/libs/*" kafka.Kafka "$KDIR/server.properties" \
    </dev/null >"$KDIR/kafka.log" 2>&1 9>&- &
  echo $! >"$KDIR/kafka.pid"
  STARTED+=("$KDIR/kafka.pid|$KAFKA_MARKER|kafka")
}

kafka_wait() {
  local pid port i
  pid=$(<"$KDIR/kafka.pid")
  port=$(<"$KDIR/port")
  for ((i = 0; i < 120; i++)); do # 60 s
    kafka_probe "$port" && { log "kafka ready on 127.0.0.1:$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || fail_with_log "kafka exited during startup" "$KDIR/kafka.log"
    sleep 0.5
  done
  stop_pid "$pid" kafka 10
  fail_with_log "kafka did not answer on 127.0.0.1:$port within 60s (stopped it)" "$KDIR/kafka.log"
}

# ---------------------------------------------------------------- Apicurio Registry (in-memory H2)
REG_MARKER=-Dcxr.stack=apicurio

registry_java() { # Apicurio 3.x is built for Java 21+
  local j c
  for c in ${JAVA21_HOME:+"$JAVA21_HOME/bin/java"} $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV) \
    "$(command -v java || true)"; do
    [[ -x $c ]] && (($(java_major "$c") >= 21)) && { echo "$c"; return 0; }
  done
  die "Apicurio Registry $APICURIO_VERSION needs Java >= 21 and none was found (tried \$JAVA21_HOME, /usr/lib/jvm/*, java on PATH).
  Install one (Debian 12: temurin-21-jdk or temurin-25-jdk from the Adoptium apt repo; Debian 13+:
  apt-get install openjdk-21-jre-headless), or point JAVA21_HOME at an existing JDK 21+."
}

registry_fetch() {
  [[ -f $ADIR/app/quarkus-run.jar ]] && return 0
  log "fetching Apicurio Registry $APICURIO_VERSION (~160 MB, first run only)"
  mkdir -p "$ADIR"
  rm -rf "$ADIR/dl" "$ADIR/app.tmp"
  mvn_run "$ADIR" "$DEP_PLUGIN:copy" \
    -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" -DoutputDirectory=dl
  mkdir -p "$ADIR/app.tmp"
  tar xzf "$ADIR"/dl/*.tar.gz -C "$ADIR/app.tmp" # a Quarkus fast-jar: quarkus-run.jar + lib/ + app/
  rm -rf "$ADIR/dl" "$ADIR/app"
  mv "$ADIR/app.tmp" "$ADIR/app"
}

registry_start() {
  local pid port mport java
  if pid=$(pid_of "$ADIR/registry.pid" "$REG_MARKER"); then
    log "registry already running (pid $pid, 127.0.0.1:$(<"$ADIR/port"))"
    return 0
  fi
  pick_port REGISTRY_PORT 8081; port=$PORT
  pick_port REGISTRY_MANAGEMENT_PORT 9000; mport=$PORT
  java=$(registry_java)
  registry_fetch
  echo "$port" >"$ADIR/port"
  echo "$mport" >"$ADIR/management.port"
  log "starting apicurio registry on 127.0.0.1:$port (management $mport, $java)"
  # Loopback only, for both the API and Quarkus' separate management (health/metrics) port.
  # Storage: sql/h2 with a jdbc:h2:mem url = in-memory, gone on stop. The H2 pool defaults
  # (20 connections) are cut down; OpenTelemetry is already disabled by default.
  # legacy-id-mode=false (the default, pinned here): ccompat schema ids are Apicurio *contentIds*,
  # which is what the Apicurio serdes write with apicurio.registry.use-id=contentId.
  # cd: Quarkus puts its upload temp dir relative to the working directory.
  # shellcheck disable=SC2086
  (cd "$ADIR" && exec setsid "$java" $REG_MARKER ${REGISTRY_HEAP:--Xms64m -Xmx384m} -XX:+UseSerialGC \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$mport" \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    -Dapicurio.ccompat.legacy-id-mode.enabled=false \
    -Dapicurio.datasource.jdbc.initial-size=2 -Dapicurio.datasource.jdbc.min-size=2 \
    -Dapicurio.datasource.jdbc.max-size=20 \
    -jar "$ADIR/app/quarkus-run.jar" </dev/null >"$ADIR/registry.log" 2>&1) 9>&- &
  echo $! >"$ADIR/registry.pid"
  STARTED+=("$ADIR/registry.pid|$REG_MARKER|registry")
}

http_code() { # <url> -> HTTP status code (000 if no answer)
  if command -v curl >/dev/null; then
    curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true
  else # minimal fallback: plain HTTP/1.0 over bash's /dev/tcp
    local hp=${1#http://} path code
    path=/${hp#*/}; hp=${hp%%/*}
    code=$(timeout 5 bash -c "exec 3<>/dev/tcp/${hp%:*}/${hp#*:} && printf 'GET $path HTTP/1.0\r\n\r\n' >&3 &&
      head -n1 <&3" 2>/dev/null | awk '{print $2}') || true
    echo "${code:-000}"
  fi
}

registry_wait() {
  local pid port i
  pid=$(<"$ADIR/registry.pid")
  port=$(<"$ADIR/port")
  for ((i = 0; i < 240; i++)); do # 120 s
    [[ $(http_code "http://127.0.0.1:$port/apis/ccompat/v7/subjects") == 200 ]] &&
      { log "registry ready on http://127.0.0.1:$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || fail_with_log "registry exited during startup" "$ADIR/registry.log"
    sleep 0.5
  done
  stop_pid "$pid" registry 10
  fail_with_log "registry did not answer 200 on /apis/ccompat/v7/subjects within 120s (stopped it)" "$ADIR/registry.log"
}

# ---------------------------------------------------------------- Redis
REDIS_MARKER=redis-server # checked against the pid in the pid file *we* wrote

redis_ping() { # <host> <port>
  local r
  r=$(timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2 && printf 'PING\r\n' >&3 && head -n1 <&3" 2>/dev/null) || return 1
  [[ $r == +PONG* || $r == -NOAUTH* ]] # NOAUTH: a password-protected Redis is still a Redis
}

redis_start() {
  local pid port i
  if pid=$(pid_of "$RDIR/redis.pid" "$REDIS_MARKER"); then
    log "redis already running (ours, pid $pid, 127.0.0.1:$(<"$RDIR/port"))"
    return 0
  fi
  rm -f "$RDIR/redis.pid"
  mkdir -p "$RDIR"
  if redis_ping "$REDIS_HOST" "${REDIS_PORT:-6379}"; then # reuse any Redis already there
    log "redis: using existing server at $REDIS_HOST:${REDIS_PORT:-6379}"
    echo "${REDIS_PORT:-6379}" >"$RDIR/port"
    return 0
  fi
  [[ $REDIS_HOST == 127.0.0.1 || $REDIS_HOST == localhost ]] ||
    die "no Redis answers at $REDIS_HOST:${REDIS_PORT:-6379} and only a local one can be started"
  command -v redis-server >/dev/null || die "no Redis at $REDIS_HOST:${REDIS_PORT:-6379} and redis-server is not installed: apt-get install redis-server"
  pick_port REDIS_PORT 6379; port=$PORT
  echo "$port" >"$RDIR/port"
  log "starting redis-server on 127.0.0.1:$port (no persistence)"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$RDIR" \
    --daemonize yes --pidfile "$RDIR/redis.pid" --logfile "$RDIR/redis.log" 9>&-
  STARTED+=("$RDIR/redis.pid|$REDIS_MARKER|redis")
  for ((i = 0; i < 50; i++)); do
    redis_ping 127.0.0.1 "$port" && { log "redis ready on 127.0.0.1:$port"; return 0; }
    sleep 0.1
  done
  fail_with_log "redis-server did not answer PING on 127.0.0.1:$port" "$RDIR/redis.log"
}

# ---------------------------------------------------------------- commands
env_lines() {
  local kp rp dp
  kp=$(cat "$KDIR/port" 2>/dev/null || echo "${KAFKA_PORT:-9092}")
  rp=$(cat "$ADIR/port" 2>/dev/null || echo "${REGISTRY_PORT:-8081}")
  dp=$(cat "$RDIR/port" 2>/dev/null || echo "${REDIS_PORT:-6379}")
  cat <<EOF
export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$kp
export SCHEMA_REGISTRY_URL=http://127.0.0.1:$rp/apis/ccompat/v7
export APICURIO_REGISTRY_URL=http://127.0.0.1:$rp/apis/registry/v3
export REDIS_URL=redis://$REDIS_HOST:$dp
EOF
}

take_lock() { # serialise concurrent start/stop calls on one STACK_DIR
  mkdir -p "$STACK_DIR"
  exec 9>"$STACK_DIR/.lock"
  command -v flock >/dev/null || return 0
  flock -w 300 9 || die "another stack.sh has held $STACK_DIR/.lock for 5 minutes"
}

STARTED=() # "pidfile|marker|name" of servers launched by this invocation
rollback() { # a failed start stops what it launched itself, so nothing half-started lingers
  local rc=$1 e pid f m n
  ((rc == 0 || ${#STARTED[@]} == 0)) && return 0
  log "start failed: stopping what this run started"
  for e in "${STARTED[@]}"; do
    IFS="|" read -r f m n <<<"$e"
    if pid=$(pid_of "$f" "$m"); then stop_pid "$pid" "$n" 10; fi
    rm -f "$f"
  done
}

cmd_start() {
  local t0=$SECONDS
  trap 'rollback $?' EXIT
  take_lock # every server launched below gets `9>&-` so it does not inherit (and hold) the lock
  redis_start
  # Kafka and the registry boot in parallel (independent); then wait for both.
  kafka_start
  registry_start
  kafka_wait
  registry_wait
  env_lines >"$STACK_DIR/stack.env"
  log "stack up in $((SECONDS - t0))s; env in $STACK_DIR/stack.env"
}

cmd_stop() {
  local keep=false pid
  case ${1:-} in --keep-data) keep=true ;; "") ;; *) die "unknown option for stop: $1" ;; esac
  take_lock
  if pid=$(pid_of "$ADIR/registry.pid" "$REG_MARKER"); then stop_pid "$pid" registry 20; fi
  if pid=$(pid_of "$KDIR/kafka.pid" "$KAFKA_MARKER"); then stop_pid "$pid" kafka 30; fi
  if pid=$(pid_of "$RDIR/redis.pid" "$REDIS_MARKER"); then stop_pid "$pid" redis 10; fi
  rm -f "$ADIR"/{registry.pid,port,management.port} "$KDIR"/{kafka.pid,port,controller.port} \
    "$RDIR"/{redis.pid,port} "$STACK_DIR/stack.env"
  if $keep; then log "kept kafka data in $KDIR/data"; else rm -rf "$KDIR/data"; fi
  log "stack stopped"
}

cmd_crash() {
  local what=${1:-} pid t0=$SECONDS
  take_lock
  case $what in
    kafka)
      pid=$(pid_of "$KDIR/kafka.pid" "$KAFKA_MARKER") || die "kafka is not running (or not ours)"
      kill -KILL "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      log "kafka killed (pid $pid)"
      KAFKA_PORT=$(<"$KDIR/port") KAFKA_CONTROLLER_PORT=$(<"$KDIR/controller.port") kafka_start
      kafka_wait ;;
    redis)
      pid=$(pid_of "$RDIR/redis.pid" "$REDIS_MARKER") || die "redis is not ours (an external Redis is never killed)"
      kill -KILL "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      rm -f "$RDIR/redis.pid"
      log "redis killed (pid $pid)"
      REDIS_PORT=$(<"$RDIR/port") redis_start ;;
    *) die "crash what? kafka or redis" ;;
  esac
  log "$what back in $((SECONDS - t0))s"
}

cmd_status() {
  local pid all=0 p
  if pid=$(pid_of "$KDIR/kafka.pid" "$KAFKA_MARKER"); then
    p=$(<"$KDIR/port")
    if kafka_probe "$p"; then echo "kafka    up        pid $pid  127.0.0.1:$p (controller $(<"$KDIR/controller.port"))"
    else echo "kafka    starting  pid $pid  127.0.0.1:$p (not answering yet)"; all=3; fi
  else echo "kafka    down"; all=3; fi
  if pid=$(pid_of "$ADIR/registry.pid" "$REG_MARKER"); then
    p=$(<"$ADIR/port")
    if [[ $(http_code "http://127.0.0.1:$p/apis/ccompat/v7/subjects") == 200 ]]; then
      echo "registry up        pid $pid  http://127.0.0.1:$p (management $(<"$ADIR/management.port"))"
    else echo "registry starting  pid $pid  http://127.0.0.1:$p (not answering yet)"; all=3; fi
  else echo "registry down"; all=3; fi
  p=$(cat "$RDIR/port" 2>/dev/null || echo "${REDIS_PORT:-6379}")
  if pid=$(pid_of "$RDIR/redis.pid" "$REDIS_MARKER"); then
    redis_ping 127.0.0.1 "$p" && echo "redis    up        pid $pid  127.0.0.1:$p (ours)" ||
      { echo "redis    starting  pid $pid  127.0.0.1:$p"; all=3; }
  elif redis_ping "$REDIS_HOST" "$p"; then echo "redis    up        $REDIS_HOST:$p (external, not managed)"
  else echo "redis    down"; all=3; fi
  return $all
}

case ${1:-} in
  start) cmd_start ;;
  stop) shift; cmd_stop "$@" ;;
  status) cmd_status ;;
  crash) shift; cmd_crash "$@" ;;
  env)
    if [[ -f $STACK_DIR/stack.env ]]; then cat "$STACK_DIR/stack.env"
    else log "stack not started; printing defaults"; env_lines; fi ;;
  *) sed -n '2,/^set -euo/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
