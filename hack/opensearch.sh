#!/usr/bin/env bash
# Installs and runs the real OpenSearch that tests, the sandbox and benchmarks use: the
# integration-test distribution OpenSearch publishes on Maven Central
# (org.opensearch.distribution.integ-test-zip:opensearch, no security plugin, no bundled JDK),
# single node on 127.0.0.1 with the machine's Java 17.
#
#   opensearch.sh install            fetch and unpack (skipped when already there)
#   opensearch.sh start RUNDIR PORT  start in the background; waits until it answers
#   opensearch.sh stop RUNDIR        stop the one started with that RUNDIR
#
# OpenSearch refuses to run as root. As root (CI, the sandbox here), the install goes to
# /var/cache/hopsdeploy (readable by all) and the server runs as the system user "hopsdeploy",
# created on first use.
set -euo pipefail
: "${OPENSEARCH_VERSION:=2.19.6}"
CACHE=${HOPSDEPLOY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hopsdeploy}
RUN_AS=""
if [ "$(id -u)" = 0 ]; then
  CACHE=/var/cache/hopsdeploy
  RUN_AS=hopsdeploy
fi
HOME_DIR=$CACHE/opensearch-$OPENSEARCH_VERSION
log() { printf '[opensearch] %s\n' "$*" >&2; }

java_home() {
  if [ -n "${OPENSEARCH_JAVA_HOME:-}" ]; then echo "$OPENSEARCH_JAVA_HOME"; return; fi
  local j; j=$(readlink -f "$(command -v java)")
  dirname "$(dirname "$j")"
}

install() {
  if [ -x "$HOME_DIR/bin/opensearch" ]; then log "OpenSearch $OPENSEARCH_VERSION: cached in $HOME_DIR"; return; fi
  log "fetching OpenSearch $OPENSEARCH_VERSION from Maven Central"
  local w; w=$(mktemp -d)
  mvn -q -B dependency:copy "-Dartifact=org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_VERSION:zip" "-DoutputDirectory=$w" >&2
  mkdir -p "$CACHE"
  (cd "$w" && unzip -q "opensearch-$OPENSEARCH_VERSION.zip")
  rm -rf "$HOME_DIR"; mv "$w/opensearch-$OPENSEARCH_VERSION" "$HOME_DIR"; rm -rf "$w"
  chmod -R a+rX "$CACHE"
  log "installed in $HOME_DIR"
}

start() {
  local run=${1:?RUNDIR} port=${2:?PORT}
  install
  mkdir -p "$run"
  run=$(cd "$run" && pwd)
  if [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null; then log "already running (pid $(cat "$run/pid"))"; return; fi
  rm -rf "$run/config" "$run/data" "$run/logs"
  cp -r "$HOME_DIR/config" "$run/config"
  mkdir -p "$run/data" "$run/logs"
  # Relative paths in jvm.options point into the install, which the server may not write.
  sed -i -e "s#logs/gc.log#$run/logs/gc.log#; s#HeapDumpPath=data#HeapDumpPath=$run/data#; s#logs/hs_err#$run/logs/hs_err#" "$run/config/jvm.options"
  local -a cmd=(env "OPENSEARCH_PATH_CONF=$run/config" "OPENSEARCH_JAVA_HOME=$(java_home)"
    "OPENSEARCH_JAVA_OPTS=${OPENSEARCH_JAVA_OPTS:--Xms512m -Xmx512m}"
    "$HOME_DIR/bin/opensearch" -d -p "$run/pid" -E discovery.type=single-node -E network.host=127.0.0.1
    -E "http.port=$port" -E transport.port=0 -E "path.data=$run/data" -E "path.logs=$run/logs"
    -E cluster.routing.allocation.disk.threshold_enabled=false)
  if [ -n "$RUN_AS" ]; then
    id "$RUN_AS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS"
    chown -R "$RUN_AS:" "$run"
    chmod a+rx "$run"
    (cd /tmp && runuser -u "$RUN_AS" -- "${cmd[@]}") >"$run/start.log" 2>&1 </dev/null
  else
    (cd /tmp && "${cmd[@]}") >"$run/start.log" 2>&1 </dev/null
  fi
  for _ in $(seq 240); do
    if curl -fsS "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; then
      log "ready on http://127.0.0.1:$port (pid $(cat "$run/pid"))"; return
    fi
    sleep 0.5
  done
  log "did not answer on port $port in 120s; last lines of its log:"
  tail -n 20 "$run/logs/"*.log "$run/start.log" >&2 2>/dev/null || true
  return 1
}

stop() {
  local run=${1:?RUNDIR}
  [ -f "$run/pid" ] || return 0
  local pid; pid=$(cat "$run/pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$run/pid"
  log "stopped (pid $pid)"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" "${3:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 install | start RUNDIR PORT | stop RUNDIR" >&2; exit 2 ;;
esac
