#!/usr/bin/env bash
# `make demo`: builds what it needs, starts the sandbox, creates a Hopsworks project
# namespace with deployments in different states (with logs and OpenSearch history),
# installs the plugin with krew from a locally built archive, and runs it through the real
# kubectl. The sandbox stays up; `make sandbox-down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TESTBIN:?run through make demo}" "${VERSION:=v0.1.0}"
DIR=$PWD/.sandbox
NS=demo
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\n$ %s\n' "$*"; "$@" || echo "(exit code $?)"; }

step "Build the control plane, the living cluster's parts, OpenSearch and the plugin (cached after the first run)"
: "${LIVING:?run through make demo}"
# OpenSearch (Maven Central) and the KServe controller's and Knative's modules (the Go module
# proxy) come over the network while the control plane's builds use the cores.
oslog=$(mktemp)
( hack/opensearch.sh install && hack/opensearch-secured.sh install &&
  hack/provision-living-cluster.sh "$LIVING" fetch ) >"$oslog" 2>&1 &
ospid=$!
hack/provision-test-env.sh "$TESTBIN"
if ! wait "$ospid"; then
  cat "$oslog" >&2; rm -f "$oslog"
  echo "demo: fetching OpenSearch or the KServe and Knative modules failed (above); run 'make opensearch living' to see it alone" >&2
  exit 1
fi
cat "$oslog"; rm -f "$oslog"
hack/provision-living-cluster.sh "$LIVING"
host=$(go env GOOS)/$(go env GOARCH)
VERSION=$VERSION LDFLAGS="-s -w -X github.com/hopsdeploy/kubectl-hopsdeploy/pkg/version.Version=$VERSION -X github.com/hopsdeploy/kubectl-hopsdeploy/pkg/version.Commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown) -X github.com/hopsdeploy/kubectl-hopsdeploy/pkg/version.Date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  hack/dist.sh "$host"

step "Start the sandbox"
hack/sandbox.sh up
export KUBECONFIG=$DIR/kubeconfig

step "Create the project namespace '$NS' with its deployments as Hopsworks does; the KServe controller, Knative Serving's controller and autoscaler, the controller-manager, the scheduler and KWOK bring them to their states (idlemodel is scaled to zero by Knative's autoscaler; stopping is stopped by the seeder, as Hopsworks stops one, and its pod terminates)"
if kubectl_out=$("$TESTBIN/kubectl" get ns "$NS" -o name 2>/dev/null) && [ -n "$kubectl_out" ]; then
  echo "namespace $NS exists already: keeping it"
else
  bin/hopsdeploy-sandbox seed --dir "$DIR" --namespace "$NS" --opensearch "$(cat "$DIR/opensearch-url")" --secured-opensearch "$DIR/opensearch-secured"
fi

run "$TESTBIN/kubectl" get isvc,deploy,pods -n "$NS" -o wide
echo "# the Serverless deployments' Knative objects, made by Knative's controllers (only the network layer is a stand-in):"
run "$TESTBIN/kubectl" get ksvc,revisions,podautoscalers.autoscaling.internal.knative.dev -n "$NS"

step "Install the plugin with krew, from the archive just built"
export KREW_ROOT=$DIR/krew KREW_NO_UPGRADE_CHECK=1
mkdir -p "$KREW_ROOT/index/default/plugins" "$DIR/krew-manifest"
[ -d "$KREW_ROOT/index/default/.git" ] || git -C "$KREW_ROOT/index/default" init -q
archive=dist/kubectl-hopsdeploy_${VERSION}_${host%/*}_${host#*/}.tar.gz
VERSION=$VERSION RELEASE_URL=file://$PWD/dist hack/krew-manifest.sh "$DIR/krew-manifest/hopsdeploy.yaml"
export PATH=$KREW_ROOT/bin:$TESTBIN:$PATH
kubectl krew uninstall hopsdeploy >/dev/null 2>&1 || true
kubectl krew install --manifest="$DIR/krew-manifest/hopsdeploy.yaml" --archive="$archive" </dev/null 2>&1 | grep -v 'Detected stdin'
run kubectl plugin list

step "Run the plugin through kubectl"
run kubectl hopsdeploy version
run kubectl hopsdeploy list -n $NS
for d in fraud gpumodel irisinit churn recommend bigmodel slowloader idlemodel stopping legacypy; do
  run kubectl hopsdeploy status $d -n $NS
done
run kubectl hopsdeploy status fraud -n $NS -o jsonpath='{.status} {.condition}{"\n"}'
run kubectl hopsdeploy logs churn -n $NS --previous
run kubectl hopsdeploy logs recommend -n $NS -c transformer --previous
run kubectl hopsdeploy logs fraud -n $NS -c transformer
run kubectl hopsdeploy logs fraud -n $NS -c all --container all --tail 2
export HOPSDEPLOY_OPENSEARCH_URL=$(cat "$DIR/opensearch-url")
for d in gpumodel irisinit churn bigmodel slowloader idlemodel; do
  run kubectl hopsdeploy why $d -n $NS
done
run kubectl hopsdeploy timeline slowloader -n $NS --logs
run kubectl hopsdeploy timeline churn -n $NS --chart --width 110
echo "# coldstart's start was made by KWOK's stages with these delays: pod create 1s + image pull 2s"
echo "# (= image pull, init start 3s), model download 8s, model server start 3s, model load 12s."
echo "# The anatomy below reads them back from the pod's conditions and container states:"
run kubectl hopsdeploy why coldstart -n $NS
run kubectl hopsdeploy logs bigmodel -n $NS --last-words
run kubectl hopsdeploy bundle churn -n $NS -f "$DIR/churn-bundle.tar.gz" --force
run kubectl hopsdeploy report bigmodel -n $NS -f "$DIR/bigmodel-report.html" --force
echo "# the OOM deployment's page: open $DIR/bigmodel-report.html in a browser (it needs no network)"
run env KUBECONFIG=/nonexistent kubectl hopsdeploy status --from-bundle "$DIR/churn-bundle.tar.gz"
run kubectl hopsdeploy logs idlemodel -n $NS
run kubectl hopsdeploy logs idlemodel -n $NS --since 100h --container all --tail 6 --timestamps
run kubectl hopsdeploy logs churn -n $NS --since 30h --grep error

step "A new model version, rolled out by the controllers: the old pods serve until the new ones are ready (so Hopsworks keeps saying Running)"
run "$TESTBIN/kubectl" patch isvc fraud -n $NS --type merge -p '{"metadata":{"labels":{"serving.hops.works/model-version":"2"}},"spec":{"predictor":{"containers":[{"name":"kserve-container","image":"docker.hops.works/python-env:4.2","env":[{"name":"STORAGE_URI","value":"s3://hopsworks/Projects/demo/Models/fraud/2"}]}]}}}'
sleep 2
run kubectl hopsdeploy status fraud -n $NS
run "$TESTBIN/kubectl" rollout status deploy/fraud-predictor -n $NS --timeout 90s
sleep 3
run kubectl hopsdeploy status fraud -n $NS

step "A deployment stopped yesterday: nothing of it is in the cluster, history still knows it"
run kubectl hopsdeploy list -n $NS --status Stopped
run kubectl hopsdeploy status oldfraud -n $NS
run kubectl hopsdeploy why oldfraud -n $NS
run kubectl hopsdeploy logs oldfraud -n $NS --source history --since 24h

step "The same as a Hopsworks data scientist: an API key (scopes PROJECT, FEATURESTORE, SERVING), no OpenSearch password (the project's token from Hopsworks, OpenSearch with the security plugin and Hopsworks' roles)"
unset HOPSDEPLOY_OPENSEARCH_URL
export HOPSWORKS_URL=$(cat "$DIR/hopsworks-url") HOPSWORKS_API_KEY_FILE=$DIR/hopsworks-api-key HOPSWORKS_CA=$DIR/opensearch-secured/certs/ca.pem
echo "HOPSWORKS_URL=$HOPSWORKS_URL HOPSWORKS_API_KEY_FILE=$HOPSWORKS_API_KEY_FILE HOPSWORKS_CA=$HOPSWORKS_CA"
echo "(the key's user is a data scientist of project demo: read and search on demo_*, no mapping read)"
run kubectl hopsdeploy status oldfraud -n $NS
run kubectl hopsdeploy list -n $NS --status Stopped
run kubectl hopsdeploy logs oldfraud -n $NS --source history --since 24h --tail 5
echo "# a DEFAULT-tool deployment, stopped: its documents carry no component and no container"
run kubectl hopsdeploy why legacyflask -n $NS
echo "# a deployment deleted in Hopsworks two days ago: Hopsworks says it does not exist (exit 1); its lines are still in OpenSearch"
run kubectl hopsdeploy status retired -n $NS
run kubectl hopsdeploy logs retired -n $NS --source history --since 72h
echo "# another project's index: the security plugin refuses a demo member (exit 9)"
run kubectl hopsdeploy logs oldfraud -n $NS --source history --since 24h --index 'payments_serving-*'

cat <<TXT

== The sandbox is still running. To use it:
  export KUBECONFIG=$DIR/kubeconfig KREW_ROOT=$KREW_ROOT PATH=$KREW_ROOT/bin:$TESTBIN:\$PATH
  export HOPSDEPLOY_OPENSEARCH_URL=$(cat "$DIR/opensearch-url")
  kubectl hopsdeploy list -n $NS
  kubectl hopsdeploy logs fraud -n $NS -f      # then, elsewhere, append a line:
  echo "\$(date -u +%Y-%m-%dT%H:%M:%S.%NZ) hello" >> $DIR/logs/$NS/<pod>/kserve-container.log
  OpenSearch with the history: $(cat "$DIR/opensearch-url")
  As a Hopsworks user instead (API key, project token, security plugin):
  export HOPSWORKS_URL=$(cat "$DIR/hopsworks-url") HOPSWORKS_API_KEY_FILE=$DIR/hopsworks-api-key HOPSWORKS_CA=$DIR/opensearch-secured/certs/ca.pem
Stop it with: make sandbox-down
TXT
