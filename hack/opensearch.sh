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
log() { printf '[opensearch] %s\n' "$*" >&2; }
. "$(dirname "$0")/opensearch-lib.sh"
HOME_DIR=$CACHE/opensearch-$OPENSEARCH_VERSION

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
  prepare_run "$run" "$HOME_DIR"
  launch "$run" "$HOME_DIR" "$port" "$run/pid" "$run"
  await "$run" "$port" "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=1s"
  log "ready on http://127.0.0.1:$port (pid $(cat "$run/pid"))"
}

stop() { stop_pidfile "${1:?RUNDIR}/pid"; }

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" "${3:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 install | start RUNDIR PORT | stop RUNDIR" >&2; exit 2 ;;
esac
