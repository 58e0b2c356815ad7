#!/usr/bin/env bash
# Benchmarks side by side with the peers in one run: bench.sh logs|history|status...
# They run on a cluster of their own, not the sandbox: a bare control plane (etcd and
# kube-apiserver) whose objects are written and whose container logs the log server serves,
# started by hopsdeploy-bench, so that no controller competes for the CPU while a command is
# measured (the sandbox's controllers and KWOK would, and KServe would act on 2,000 written
# InferenceServices). OpenSearch, OpenSearch with the security plugin and the Hopsworks
# stand-in run from .bench/ (their data kept between runs, so that the history is loaded
# once) and are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TESTBIN:?run through make}" "${STERN:?run through make}"
DIR=$PWD/.bench
OS_PORT=${BENCH_OPENSEARCH_PORT:-19263}
SECURED_PORT=${BENCH_SECURED_OPENSEARCH_PORT:-19264}
HOPSWORKS_ADDR=${BENCH_HOPSWORKS_ADDR:-127.0.0.1:19265}
mkdir -p "$DIR"
go build -o bin/hopsdeploy-bench ./test/bench
go build -o bin/hopsdeploy-sandbox ./test/sandbox
stop() {
  [ -f "$DIR/hopsworks.pid" ] && { kill -TERM "$(cat "$DIR/hopsworks.pid")" 2>/dev/null || true; rm -f "$DIR/hopsworks.pid"; }
  hack/opensearch.sh stop "$DIR/opensearch" >/dev/null
  hack/opensearch-secured.sh stop "$DIR/opensearch-secured" >/dev/null
}
trap stop EXIT
hack/opensearch.sh start "$DIR/opensearch" "$OS_PORT" >&2
echo "http://127.0.0.1:$OS_PORT" > "$DIR/opensearch-url"
hack/opensearch-secured.sh start "$DIR/opensearch-secured" "$SECURED_PORT" >&2
[ -s "$DIR/hopsworks-api-key" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$DIR/hopsworks-api-key")
setsid bin/hopsdeploy-sandbox hopsworks --dir "$DIR" --listen "$HOPSWORKS_ADDR" --projects bench_secured >"$DIR/hopsworks.log" 2>&1 </dev/null &
echo $! > "$DIR/hopsworks.pid"
echo "https://$HOPSWORKS_ADDR" > "$DIR/hopsworks-url"
for _ in $(seq 40); do # ready when it answers at all (401 without a key: curl -f exits 22)
  rc=0; curl -fsS --cacert "$DIR/opensearch-secured/certs/ca.pem" "https://$HOPSWORKS_ADDR/hopsworks-api/api/variables/x" >/dev/null 2>&1 || rc=$?
  [ "$rc" = 22 ] && break
  sleep 0.25
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3)"
KUBEBUILDER_ASSETS=$TESTBIN bin/hopsdeploy-bench -dir "$DIR" -testbin "$TESTBIN" -stern "$STERN" ${BENCH_FLAGS:-} "$@"
