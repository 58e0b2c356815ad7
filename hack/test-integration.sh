#!/usr/bin/env bash
# The integration tests against the real parts: starts OpenSearch and OpenSearch with the
# security plugin for the run (in parallel), runs `go test` on test/integration with the
# control plane and the living parts from the cache, stops both servers, and closes with the
# counts. RUN selects tests as go test -run does (all by default).
#   hack/test-integration.sh [RUN]
# Needs TESTBIN and LIVING (the Makefile exports them); `make test-integration RUN=TestX`.
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-.}
: "${TEST_OS_PORT:=19250}" "${TEST_OS_DIR:=/tmp/hopsdeploy-test-opensearch}"
: "${TEST_SECURED_OS_PORT:=19251}" "${TEST_SECURED_OS_DIR:=/tmp/hopsdeploy-test-opensearch-secured}"
: "${TESTBIN:?set by the Makefile}" "${LIVING:?set by the Makefile}"
log=/tmp/hopsdeploy-integration.log

echo "== integration tests (real kube-apiserver $K8S_VERSION, etcd $ETCD_VERSION, OpenSearch $OPENSEARCH_VERSION, OpenSearch $OPENSEARCH_SECURED_VERSION with the security plugin)"
stop() { hack/opensearch.sh stop "$TEST_OS_DIR"; hack/opensearch-secured.sh stop "$TEST_SECURED_OS_DIR"; }
trap stop EXIT
hack/opensearch.sh start "$TEST_OS_DIR" "$TEST_OS_PORT" & plain=$!
hack/opensearch-secured.sh start "$TEST_SECURED_OS_DIR" "$TEST_SECURED_OS_PORT" & secured=$!
wait $plain
wait $secured

set +e
KUBEBUILDER_ASSETS=$TESTBIN PATH=$TESTBIN:$PATH \
  HOPSDEPLOY_TEST_OPENSEARCH_URL=http://127.0.0.1:$TEST_OS_PORT \
  HOPSDEPLOY_TEST_SECURED_OPENSEARCH_DIR=$TEST_SECURED_OS_DIR \
  HOPSDEPLOY_LIVING_ASSETS=$LIVING \
  go test -tags integration -count=1 -timeout 30m -v -run "$run" ./test/integration/... 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo "integration: $(grep -c -- '--- PASS' "$log") passed, $(grep -c -- '--- FAIL' "$log") failed, $(grep -c -- '--- SKIP' "$log") skipped"
exit "$rc"
