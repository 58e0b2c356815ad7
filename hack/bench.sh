#!/usr/bin/env bash
# Benchmarks side by side with the peers in one run: bench.sh logs|history|status...
# They run on a cluster of their own, not the sandbox: a bare control plane (etcd and
# kube-apiserver) whose objects are written and whose container logs KWOK's kubelet serves
# (its node stages only), started by hopsdeploy-bench, so that no controller competes for the
# CPU while a command is measured (the sandbox's controllers and KWOK's pod stages would, and
# KServe would act on 2,000 written InferenceServices). OpenSearch, OpenSearch with the security plugin and the Hopsworks
# stand-in run from .bench/ (their data kept between runs, so that the history is loaded
# once) and are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TESTBIN:?run through make}" "${LIVING:?run through make}" "${STERN:?run through make}"
DIR=$PWD/.bench
OS_PORT=${BENCH_OPENSEARCH_PORT:-19263}
SECURED_PORT=${BENCH_SECURED_OPENSEARCH_PORT:-19264}
HOPSWORKS_ADDR=${BENCH_HOPSWORKS_ADDR:-127.0.0.1:19265}
mkdir -p "$DIR"
. hack/hopsworks-standin.sh
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/ ./test/bench ./test/sandbox ./test/bench/logsfloor ./test/bench/statusfloor
mv bin/bench bin/hopsdeploy-bench; mv bin/sandbox bin/hopsdeploy-sandbox; mv bin/logsfloor bin/hopsdeploy-logsfloor; mv bin/statusfloor bin/hopsdeploy-statusfloor
# The forking wrapper that says a command's peak memory (see its comment).
${CC:-cc} -O2 -Wall -o bin/peakrss hack/peakrss.c
stop() {
  standin_stop "$DIR"
  hack/opensearch.sh stop "$DIR/opensearch" >/dev/null
  hack/opensearch-secured.sh stop "$DIR/opensearch-secured" >/dev/null
}
trap stop EXIT
hack/opensearch.sh start "$DIR/opensearch" "$OS_PORT" >&2
echo "http://127.0.0.1:$OS_PORT" > "$DIR/opensearch-url"
hack/opensearch-secured.sh start "$DIR/opensearch-secured" "$SECURED_PORT" >&2
standin_start "$DIR" "$HOPSWORKS_ADDR" bench_secured
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3)"
KUBEBUILDER_ASSETS=$TESTBIN HOPSDEPLOY_LIVING_ASSETS=$LIVING bin/hopsdeploy-bench -dir "$DIR" -testbin "$TESTBIN" -stern "$STERN" -peakrss bin/peakrss ${BENCH_FLAGS:-} "$@"
