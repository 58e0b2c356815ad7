#!/usr/bin/env bash
# The local sandbox: the living cluster (etcd, kube-apiserver, kube-scheduler,
# kube-controller-manager, the KServe controller, Knative Serving's controller, webhook and
# autoscaler, and KWOK, started by one Go process, in a
# process group of its own; their logs in .sandbox/living/), OpenSearch, and, unless SANDBOX_SECURED=0, a second OpenSearch with the
# security plugin and the Hopsworks REST stand-in in front of it (as a Hopsworks user meets
# them: an API key, a project token, TLS by the Hopsworks CA), all on 127.0.0.1, in the
# background.
#   sandbox.sh up     start (idempotent); writes .sandbox/kubeconfig
#   sandbox.sh down   stop exactly those processes
# Logs of the sandbox's containers are files: .sandbox/logs/<namespace>/<pod>/<container>.log
# (and <container>.previous.log), one line each "<RFC3339Nano timestamp> <message>".
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$PWD/.sandbox
OS_PORT=${SANDBOX_OPENSEARCH_PORT:-19260}
SECURED_PORT=${SANDBOX_SECURED_OPENSEARCH_PORT:-19261}
HOPSWORKS_ADDR=${SANDBOX_HOPSWORKS_ADDR:-127.0.0.1:19262}
SECURED=${SANDBOX_SECURED:-1}
: "${TESTBIN:?set TESTBIN (the Makefile does)}" "${LIVING:?set LIVING (the Makefile does)}"
log() { printf '[sandbox] %s\n' "$*" >&2; }
. hack/hopsworks-standin.sh

up() {
  mkdir -p "$DIR"
  if [ -f "$DIR/sandbox.pid" ] && kill -0 "$(cat "$DIR/sandbox.pid")" 2>/dev/null && [ -f "$DIR/ready" ]; then
    log "already running (pid $(cat "$DIR/sandbox.pid"))"
  else
    # The plugin's flags (make build, dist): the packages they share compile once.
    CGO_ENABLED=0 go build -trimpath -o bin/hopsdeploy-sandbox ./test/sandbox
    rm -f "$DIR/ready"
    KUBEBUILDER_ASSETS=$TESTBIN HOPSDEPLOY_LIVING_ASSETS=$LIVING setsid bin/hopsdeploy-sandbox up --dir "$DIR" >"$DIR/sandbox.log" 2>&1 </dev/null &
    echo $! > "$DIR/sandbox.pid"
    for _ in $(seq 240); do
      [ -f "$DIR/ready" ] && break
      kill -0 "$(cat "$DIR/sandbox.pid")" 2>/dev/null || { cat "$DIR/sandbox.log" >&2; log "the control plane did not start"; exit 1; }
      sleep 0.5
    done
    [ -f "$DIR/ready" ] || { log "the living cluster did not get ready in 120s: see $DIR/sandbox.log and $DIR/living/"; exit 1; }
    log "API server $(cat "$DIR/ready") (pid $(cat "$DIR/sandbox.pid"))"
  fi
  hack/opensearch.sh start "$DIR/opensearch" "$OS_PORT"
  echo "http://127.0.0.1:$OS_PORT" > "$DIR/opensearch-url"
  local secured_text=""
  if [ "$SECURED" = 1 ]; then
    hack/opensearch-secured.sh start "$DIR/opensearch-secured" "$SECURED_PORT"
    standin_start "$DIR" "$HOPSWORKS_ADDR" "${SANDBOX_PROJECTS:-demo}"
    log "Hopsworks REST stand-in https://$HOPSWORKS_ADDR (pid $(cat "$DIR/hopsworks.pid"))"
    secured_text="  Hopsworks (REST stand-in) and OpenSearch with the security plugin, as a Hopsworks user reaches them:
    export HOPSWORKS_URL=https://$HOPSWORKS_ADDR HOPSWORKS_API_KEY_FILE=$DIR/hopsworks-api-key HOPSWORKS_CA=$DIR/opensearch-secured/certs/ca.pem"
  fi
  cat <<TXT

The sandbox runs:
  export KUBECONFIG=$DIR/kubeconfig
  export PATH=$TESTBIN:$PWD/bin:\$PATH    # kubectl ${K8S_VERSION:-} and kubectl-hopsdeploy
  kubectl get nodes,ns      # KWOK's nodes; the controllers' logs in $DIR/living/
  OpenSearch: http://127.0.0.1:$OS_PORT
$secured_text
  Container logs: write lines to $DIR/logs/<namespace>/<pod>/<container>.log
Stop it with: make sandbox-down
TXT
}

down() {
  if [ -f "$DIR/sandbox.pid" ]; then
    pid=$(cat "$DIR/sandbox.pid")
    # The sandbox stops its etcd and API server on SIGTERM; the group kill catches any left.
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$DIR/sandbox.pid" "$DIR/ready"
    log "living cluster stopped"
  fi
  if [ -f "$DIR/hopsworks.pid" ]; then
    standin_stop "$DIR"
    log "Hopsworks stand-in stopped"
  fi
  hack/opensearch.sh stop "$DIR/opensearch"
  hack/opensearch-secured.sh stop "$DIR/opensearch-secured"
  left=$(pgrep -f "$DIR" || true)
  if [ -n "$left" ]; then log "still running: $left"; exit 1; fi
  log "nothing left running"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
