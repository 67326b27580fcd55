#!/usr/bin/env bash
# Smoke test of docker-compose.yml on a Docker engine: builds the service images, starts everything with fresh
# volumes, sends X-rays to ingest over HTTP (bin/send.sh) and waits until each accepted one is a case in the
# similarity service; restarts the broker and the registry, sends more and waits again; then checks that no
# container had to restart and that the dashboard holds alerts; then kills the similarity, inference and preprocess
# JVMs (kill -9) while a third batch goes through, and waits for every case again. Removes the project (and its
# volumes) at the end.
#
#   scripts/compose-smoke.sh [--standins] [--images N (default 200)] [--keep]
#
# --standins: where Docker Hub cannot be reached (this project's machines), first build local stand-ins for the
#   third-party images the files name (apache/kafka, apicurio/apicurio-registry, redis, eclipse-temurin, maven)
#   from Debian packages (debootstrap, apt) and Maven Central jars (scripts/compose-standins/), tagged cxr-standin/...
#   (never the real names, which other projects on the engine may pull), and run the compose file with an override
#   that names them (.stack-compose/standins.yml; the Dockerfile takes its base images as build arguments). They
#   imitate the real images' interfaces (environment, paths, users, entry points), not their contents.
# Needs: docker with compose (the v2 plugin or docker-compose 1.29), the shared X-rays, curl; root for the crash
# phase (the service JVMs run as their own user; without root it is skipped).
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
STANDINS=false IMAGES=200 KEEP=false
while (($#)); do
  case $1 in
    --standins) STANDINS=true ;;
    --images) IMAGES=$2; shift ;;
    --keep) KEEP=true ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
  shift
done
log() { echo "compose-smoke: $*" >&2; }
die() { log "FAILED: $*"; exit 1; }
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi
command -v "${COMPOSE[0]}" >/dev/null || die "docker compose is needed"
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info)"

build_standins() {
  local ctx=.stack-compose/standins here=scripts/compose-standins
  mkdir -p "$ctx"
  cp "$here"/* "$ctx"/
  if ! docker image inspect cxr-standin/debian:bookworm >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || die "debootstrap is needed for --standins (apt-get install debootstrap)"
    log "Debian base (debootstrap, about a minute)"
    rm -rf "$ctx/rootfs" && debootstrap --variant=minbase bookworm "$ctx/rootfs" http://deb.debian.org/debian >/dev/null
    tar -C "$ctx/rootfs" -c . | docker import - cxr-standin/debian:bookworm >/dev/null
    rm -rf "$ctx/rootfs"
  fi
  if [[ ! -d $ctx/kafka-libs ]]; then
    log "Kafka 4.1.0 jars (Maven Central)"
    cat >"$ctx/pom.xml" <<'POM'
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local.standin</groupId><artifactId>kafka-libs</artifactId><version>1</version><packaging>pom</packaging>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>2.26.1</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.26.1</version></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>4.1.0</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>4.1.0</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.26.1</version></dependency>
  </dependencies></project>
POM
    (cd "$ctx" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory=kafka-libs)
  fi
  if [[ ! -d $ctx/registry-app ]]; then
    log "Apicurio Registry 3.3.3 (Maven Central)"
    (cd "$ctx" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact=io.apicurio:apicurio-registry-app:3.3.3:tar.gz:all -DoutputDirectory=dl)
    mkdir -p "$ctx/registry-app" && tar xzf "$ctx"/dl/*.tar.gz -C "$ctx/registry-app" && rm -rf "$ctx/dl"
  fi
  if [[ ! -d $ctx/registry-jdk ]]; then # the registry needs Java 21+: a JDK of this machine's (as scripts/stack.sh)
    local j
    local j v
    for j in "${JAVA21_HOME:-}" $(ls -d /usr/lib/jvm/* 2>/dev/null | sort -rV); do
      [[ -n $j && -x $j/bin/java ]] || continue
      v=$("$j/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')
      v=${v#1.}; v=${v%%.*}
      [[ $v =~ ^[0-9]+$ ]] && ((v >= 21)) && { cp -rL "$j" "$ctx/registry-jdk"; break; }
    done
    [[ -d $ctx/registry-jdk ]] || die "the registry stand-in needs a JDK 21+ (set JAVA21_HOME)"
  fi
  # A machine behind a TLS-inspecting proxy trusts its certificate authority; builds in the stand-ins need it too.
  rm -rf "$ctx/extra-ca" && mkdir -p "$ctx/extra-ca"
  cp /usr/local/share/ca-certificates/*.crt "$ctx/extra-ca/" 2>/dev/null || true
  mkdir -p "$ctx/m2"
  if [[ -d $HOME/.m2/repository && ! -d $ctx/m2/repository ]]; then # spares the build's download; not our jars
    cp -r "$HOME/.m2/repository" "$ctx/m2/repository" && rm -rf "$ctx/m2/repository/org/cxrtriage"
  fi
  local tag file
  for tag in eclipse-temurin:17-jre=jre maven:3.9-eclipse-temurin-17=maven apache/kafka:4.1.0=kafka \
      redis:7.0=redis apicurio/apicurio-registry:3.3.3=registry; do
    file=${tag#*=}; tag=cxr-standin/${tag%=*}; tag=${tag/apache\//}; tag=${tag/apicurio\//}
    log "stand-in $tag" # built every time: the layer cache makes an unchanged one quick, a changed one is rebuilt
    docker build -q --network host -t "$tag" -f "$ctx/$file.Dockerfile" "$ctx" >/dev/null 2>&1 \
      || docker build --network host -t "$tag" -f "$ctx/$file.Dockerfile" "$ctx" >&2 || die "building $tag"
  done
  local svc
  {
    echo "# written by scripts/compose-smoke.sh --standins"
    echo "services:"
    echo "  kafka: {image: 'cxr-standin/kafka:4.1.0'}"
    echo "  registry: {image: 'cxr-standin/apicurio-registry:3.3.3'}"
    echo "  redis: {image: 'cxr-standin/redis:7.0'}"
    for svc in ingest-service preprocess-service inference-service similarity-service dashboard-service; do
      echo "  $svc:"
      echo "    build: {context: '$REPO_ROOT', target: $svc, args: {BUILD_IMAGE: 'cxr-standin/maven:3.9-eclipse-temurin-17', RUNTIME_IMAGE: 'cxr-standin/eclipse-temurin:17-jre'}}"
    done
  } >.stack-compose/standins.yml
  COMPOSE_FILES+=(-f .stack-compose/standins.yml)
}

COMPOSE_FILES=(-f docker-compose.yml)
if $STANDINS; then build_standins; fi

PROJECT=cxr-smoke
export PSEUDONYM_KEY=${PSEUDONYM_KEY:-$(openssl rand -hex 32)}
TOKEN=$(openssl rand -hex 16)
export API_TOKENS="$TOKEN=*"
compose() { "${COMPOSE[@]}" -p "$PROJECT" "${COMPOSE_FILES[@]}" "$@"; }
cleanup() { $KEEP || compose down -v >/dev/null 2>&1 || true; }
trap cleanup EXIT
compose down -v >/dev/null 2>&1 || true

wait_healthy() { # every service's /health answers 200 (ingest, similarity and dashboard publish their ports)
  local deadline=$((SECONDS + 300)) port
  for port in 8090 8093 8094; do
    until [[ $(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health") == 200 ]]; do
      ((SECONDS < deadline)) || { compose ps >&2; die "port $port not healthy within 5 minutes"; }
      sleep 2
    done
  done
  local svc
  for svc in kafka registry redis; do # their health checks (docker-compose.yml)
    until [[ $(docker inspect -f '{{.State.Health.Status}}' "$(compose ps -q "$svc")") == healthy ]]; do
      ((SECONDS < deadline)) || die "$svc not healthy within 5 minutes"
      sleep 2
    done
  done
}

start=$SECONDS
log "build"; compose build -q 2>/dev/null || compose build >/dev/null
log "up"; compose up -d >/dev/null 2>&1 || { compose ps >&2; compose logs --tail 40 >&2; die "compose up"; }
wait_healthy
log "everything healthy $((SECONDS - start)) s after the build started"
export CXR_API_TOKEN=$TOKEN
send() { bin/send.sh --limit "$1" --ingest-url http://127.0.0.1:8090 --similarity-url http://127.0.0.1:8093 --wait PT10M; }
send "$IMAGES" || die "not every accepted image became a case"
log "restarting the broker and the registry"
compose restart kafka registry >/dev/null 2>&1 || die "compose restart kafka registry"
wait_healthy
send $((IMAGES / 3 + 1)) || die "after the restart, not every accepted image became a case"
restarts=$(for c in $(compose ps -q); do docker inspect -f '{{.Name}} {{.RestartCount}}' "$c"; done | awk '$2 > 0')
[[ -z $restarts ]] || die "containers restarted on their own: $restarts"
alerts=$(curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8094/api/alerts \
  | { grep -o '"alertId"' || true; } | wc -l)
((alerts > 0)) || die "the dashboard shows no alert"

# Crashes: while a third batch goes through, kill -9 the JVM of the similarity, inference and preprocess
# containers in turn; the restart policy brings each back and every accepted image must still become a case.
if ((EUID != 0)); then
  log "PASSED (crash phase skipped: killing the services' JVMs needs root): $((SECONDS - start)) s; no container" \
    "restarted on its own; the dashboard shows $alerts alert(s)"
  exit 0
fi
log "crashing similarity, inference and preprocess (kill -9) while images go through"
(for svc in similarity-service inference-service preprocess-service; do
   sleep 4
   pid=$(docker inspect -f '{{.State.Pid}}' "$(compose ps -q "$svc")")
   ((pid > 0)) || { log "$svc has no process to kill"; exit 1; } # 0 while restarting: kill -9 0 would hit us
   kill -9 "$pid"
 done) &
crasher=$!
send $((IMAGES / 2 + 7)) || die "after the crashes, not every accepted image became a case"
wait "$crasher" || die "could not kill a service"
crashed=$(for svc in similarity-service inference-service preprocess-service; do
  docker inspect -f '{{.RestartCount}}' "$(compose ps -q "$svc")"; done | paste -sd' ')
[[ $crashed == "1 1 1" ]] || die "restart counts after one kill each: $crashed (expected 1 1 1)"
log "PASSED: $((SECONDS - start)) s; no container restarted on its own, each crashed one came back once; the" \
  "dashboard shows $alerts alert(s)"
