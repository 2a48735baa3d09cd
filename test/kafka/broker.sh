#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for tests and local
# runs, from the jars that pom.xml fetches from Maven Central. No Docker.
#
#   test/kafka/broker.sh install   fetch the jars into test/kafka/.kafka/libs (idempotent)
#   test/kafka/broker.sh start     format fresh storage, start in the background, wait until
#                                  it takes topics; prints the bootstrap address
#   test/kafka/broker.sh stop      stop it and delete its data
#   test/kafka/broker.sh status    print the bootstrap address if running (exit 0), else exit 1
#
# KAFKA_PORT (default 19092) picks the client port; the controller listens on
# KAFKA_CONTROLLER_PORT (default KAFKA_PORT+1). Each port has its own run directory, so
# several brokers (e.g. concurrent test runs) can coexist.
# KAFKA_START_TIMEOUT (seconds, default 90) bounds the wait for readiness.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$here/.kafka"
libs="$home/libs"
port="${KAFKA_PORT:-19092}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
run="$home/run-$port"
pidfile="$run/broker.pid"
logfile="$run/broker.log"
address="127.0.0.1:$port"

die() { echo "broker.sh: $*" >&2; exit 1; }

installed() { [[ -f "$libs/.complete" ]]; }

running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cmd_install() {
  if installed; then echo "kafka jars already in $libs"; return; fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  command -v java >/dev/null || die "java not found (Java 17 needed)"
  rm -rf "$libs"
  # -B: no colours or progress on CI; the jars come from Maven Central.
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies
  ls "$libs"/kafka_2.13-*.jar >/dev/null 2>&1 || die "no kafka_2.13 jar in $libs after mvn"
  touch "$libs/.complete"
  echo "kafka jars installed in $libs ($(ls "$libs" | wc -l | tr -d ' ') files)"
}

write_config() {
  cat >"$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$run/data
num.partitions=1
num.network.threads=2
num.io.threads=2
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
auto.create.topics.enable=false
delete.topic.enable=true
PROPS
}

java_opts=(-Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  "-Dlog4j.configuration=file:$here/log4j.properties")

# Run directories of brokers that died without `stop` (a killed test run) are garbage.
remove_dead_runs() {
  local dir
  for dir in "$home"/run-*; do
    [[ -f "$dir/broker.pid" ]] || continue # not started yet, or being started right now
    kill -0 "$(cat "$dir/broker.pid")" 2>/dev/null || rm -rf "$dir"
  done
}

cmd_start() {
  installed || die "kafka jars not installed: run test/kafka/broker.sh install"
  if running; then echo "$address"; return; fi
  port_open "$port" && die "port $port is taken by another process (set KAFKA_PORT)"
  port_open "$controller_port" && die "port $controller_port is taken by another process (set KAFKA_PORT)"
  remove_dead_runs
  rm -rf "$run"
  mkdir -p "$run"
  write_config
  # A KRaft cluster id is 16 random bytes, base64url without padding.
  local cluster_id
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$run/server.properties" >"$run/format.log" 2>&1 \
    || { cat "$run/format.log" >&2; die "storage format failed"; }
  # setsid: the broker outlives the shell that started it (vitest's global setup, .ci/run).
  setsid nohup java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$run/server.properties" \
    >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"

  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
  # "Kafka Server started" is logged once the broker is registered with the controller and
  # unfenced, i.e. it can lead partitions and so create topics.
  until port_open "$port" && grep -q "Kafka Server started" "$logfile"; do
    if ! running; then tail -n 40 "$logfile" >&2; die "broker exited during start (log: $logfile)"; fi
    if ((SECONDS >= deadline)); then tail -n 40 "$logfile" >&2; cmd_stop >/dev/null; die "broker not ready after ${KAFKA_START_TIMEOUT:-90}s"; fi
    sleep 0.2
  done
  echo "$address"
}

cmd_stop() {
  if running; then
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "kafka broker on $address stopped"
  fi
  rm -rf "$run"
}

cmd_status() {
  if running; then echo "$address"; else echo "kafka broker on $address not running" >&2; return 1; fi
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) die "usage: $0 install|start|stop|status" ;;
esac
