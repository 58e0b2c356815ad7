#!/usr/bin/env bash
# Builds the parts that make the test cluster move by itself, into DEST (a cache folder
# outside the clone), each skipped when its stamp says it is there:
#   kube-scheduler, kube-controller-manager  from k8s.io/kubernetes $K8S_VERSION, built as
#                                            hack/provision-test-env.sh builds kube-apiserver
#   kwok                                     sigs.k8s.io/kwok $KWOK_VERSION: nodes and kubelets
#   kserve-manager                           the KServe controller (github.com/kserve/kserve
#                                            $KSERVE_VERSION, cmd/manager), built from a throwaway
#                                            module: go install refuses modules with replace lines
#   kserve/                                  its CRDs, inferenceservice-config, webhook
#                                            manifests and release ClusterServingRuntimes, from the same module
#   knative-*                                Knative Serving $KNATIVE_VERSION's controller, webhook and
#                                            autoscaler, built from a copy of the module (its go.mod
#                                            has a replace line); the activator is data plane
#                                            (docs/living-cluster.md)
#   knative/                                 its CRDs (with knative.dev/networking's and caching's at
#                                            the versions its go.mod names), ConfigMaps, webhook and
#                                            Deployment manifests (config/core)
#   kwok-crd/                                KWOK's Logs CRD (logs are configured per pod)
#   kwok-stages.yaml                         KWOK's own lifecycle stages from its module (nodes:
#                                            initialize, heartbeat; pods: create, init containers,
#                                            ready, complete, delete); the project's failure
#                                            stages are in test/kwok/
#   usage: provision-living-cluster.sh DEST [fetch]
# With "fetch", it only downloads the modules the builds will need (network, no compiling), so
# that `make demo` can fetch them while the control plane compiles.
set -euo pipefail
DEST=${1:?usage: provision-living-cluster.sh DEST}
: "${K8S_VERSION:?}" "${KWOK_VERSION:?}" "${KSERVE_VERSION:?}" "${KNATIVE_VERSION:?}"
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
export CGO_ENABLED=0 GOFLAGS=-mod=mod
. "$(dirname "$0")/provision-lib.sh"

build_controllers() {
  if stamp_ok kube-scheduler "$K8S_VERSION" && stamp_ok kube-controller-manager "$K8S_VERSION"; then
    log "kube-scheduler and kube-controller-manager $K8S_VERSION: cached"; return
  fi
  log "building kube-scheduler and kube-controller-manager $K8S_VERSION"
  build_k8s "$DEST" kube-scheduler kube-controller-manager
  stamp kube-scheduler "$K8S_VERSION"; stamp kube-controller-manager "$K8S_VERSION"
}

build_kwok() {
  stamp_ok kwok "$KWOK_VERSION" && { log "kwok $KWOK_VERSION: cached"; return; }
  log "building kwok $KWOK_VERSION"
  GOBIN="$DEST" go install -trimpath -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  stamp kwok "$KWOK_VERSION"
}

build_kserve() {
  stamp_ok kserve-manager "$KSERVE_VERSION" && [ -d "$DEST/kserve/crd" ] && [ -d "$DEST/kserve/runtimes" ] && { log "KServe controller $KSERVE_VERSION: cached"; return; }
  log "building the KServe controller $KSERVE_VERSION (about 4 minutes cold)"
  local w mod; w=$(mktemp -d)
  ( cd "$w" && go mod init example.invalid/kservebuild >/dev/null 2>&1
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/kserve/kserve/cmd/manager"\n' > tools.go
    go get "github.com/kserve/kserve/cmd/manager@$KSERVE_VERSION" >/dev/null 2>&1
    go build -trimpath -ldflags='-s -w' -o "$DEST/kserve-manager" github.com/kserve/kserve/cmd/manager )
  mod=$(cd "$w" && go list -m -f '{{.Dir}}' github.com/kserve/kserve)
  rm -rf "$DEST/kserve"; mkdir -p "$DEST/kserve/crd" "$DEST/kserve/runtimes"
  cp "$mod"/config/crd/full/serving.kserve.io_*.yaml "$DEST/kserve/crd/"
  # The ClusterServingRuntimes a KServe release installs, with the kustomization that names
  # their images.
  cp "$mod"/config/runtimes/*.yaml "$DEST/kserve/runtimes/"
  cp "$mod/config/configmap/inferenceservice.yaml" "$mod/config/webhook/manifests.yaml" "$DEST/kserve/"
  chmod -R u+w "$DEST/kserve"
  rm -rf "$w"; stamp kserve-manager "$KSERVE_VERSION"
}

knative_parts=(controller webhook autoscaler)
knative_cached() {
  local c; for c in "${knative_parts[@]}"; do stamp_ok "knative-$c" "$KNATIVE_VERSION" || return 1; done
  [ -f "$DEST/knative/crd/domain-claim.yaml" ] && [ "$(cat "$DEST/knative/.patch" 2>/dev/null)" = probes-port ]
}

build_knative() {
  knative_cached && { log "Knative Serving $KNATIVE_VERSION: cached"; return; }
  log "building Knative Serving $KNATIVE_VERSION (about 3 minutes cold)"
  local mod w c
  mod=$(cd /tmp && go mod download -json "knative.dev/serving@$KNATIVE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  # go install refuses a module with replace lines; its own copy builds with its own go.mod.
  w=$(mktemp -d); cp -r "$mod"/. "$w"; chmod -R u+w "$w"
  # One change to the sources, where a pod's own network is assumed: the port of the health
  # probes that every process of knative.dev/pkg's sharedmain serves (8080, which the
  # autoscaler's stats server also binds) comes from KNATIVE_HEALTH_PROBES_PORT when set, so
  # that the controller, the webhook and the autoscaler can share one machine.
  ( cd "$w" && go mod vendor
    local hc=vendor/knative.dev/pkg/injection/health_check.go
    grep -q '^const HealthCheckDefaultPort = 8080$' "$hc" || { log "$hc changed: update the probe-port patch"; exit 1; }
    sed -i 's/^const HealthCheckDefaultPort = 8080$/var HealthCheckDefaultPort = func() int {\n\tif p, err := strconv.Atoi(os.Getenv("KNATIVE_HEALTH_PROBES_PORT")); err == nil {\n\t\treturn p\n\t}\n\treturn 8080\n}()/' "$hc"
    sed -i 's/^import (/import (\n\t"os"/' "$hc"
    mkdir -p out && go build -mod=vendor -trimpath -ldflags='-s -w' -o out/ $(printf './cmd/%s ' "${knative_parts[@]}") )
  for c in "${knative_parts[@]}"; do mv "$w/out/$c" "$DEST/knative-$c"; done
  rm -rf "$DEST/knative"; mkdir -p "$DEST/knative/crd" "$DEST/knative/config"
  # The release's CRDs: serving's own, and those it takes from networking and caching.
  cp "$w"/config/core/300-resources/*.yaml "$DEST/knative/crd/"
  local net cache
  net=$(cd "$w" && go list -m -f '{{.Dir}}' knative.dev/networking)
  cache=$(cd "$w" && go list -m -f '{{.Dir}}' knative.dev/caching)
  cp "$net"/config/certificate.yaml "$net"/config/domain-claim.yaml "$net"/config/ingress.yaml "$net"/config/serverlessservice.yaml "$cache"/config/image.yaml "$DEST/knative/crd/"
  # ConfigMaps (config-network is networking's) and webhooks; the activator's Deployment and
  # Service (its pods are what the ServerlessServices point at).
  mkdir -p "$DEST/knative/webhooks"
  cp "$w"/config/core/configmaps/*.yaml "$net"/config/config-network.yaml "$DEST/knative/config/"
  cp "$w"/config/core/webhooks/*.yaml "$DEST/knative/webhooks/"
  cp "$w"/config/core/deployments/activator.yaml "$DEST/knative/"
  rm -f "$DEST/knative/crd/placeholder.go"
  chmod -R u+w "$DEST/knative"
  rm -rf "$w"
  echo probes-port > "$DEST/knative/.patch"
  for c in "${knative_parts[@]}"; do stamp "knative-$c" "$KNATIVE_VERSION"; done
}

kwok_stages() {
  local mod
  mod=$(cd /tmp && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  { for f in "$mod"/kustomize/stage/node/fast/node-initialize.yaml "$mod"/kustomize/stage/node/heartbeat/node-heartbeat.yaml \
      "$mod"/kustomize/stage/pod/general/pod-*.yaml; do
      echo "---"; cat "$f"
    done; } > "$DEST/kwok-stages.yaml.tmp"
  mv "$DEST/kwok-stages.yaml.tmp" "$DEST/kwok-stages.yaml" # whole, for a test reading it now
  # The Logs CRD: container logs are configured per pod, as pods come.
  mkdir -p "$DEST/kwok-crd"
  cp "$mod/kustomize/crd/bases/kwok.x-k8s.io_logs.yaml" "$DEST/kwok-crd/"
  chmod -R u+w "$DEST/kwok-crd"
}

# fetch_modules: the module zips of the KServe controller and KWOK, into the module cache.
fetch_modules() {
  local w; w=$(mktemp -d)
  ( cd "$w" && go mod init example.invalid/livingfetch >/dev/null 2>&1
    printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "github.com/kserve/kserve/cmd/manager"\n)\n' > tools.go
    go get "github.com/kserve/kserve/cmd/manager@$KSERVE_VERSION" >/dev/null 2>&1
    go list -deps github.com/kserve/kserve/cmd/manager >/dev/null )
  rm -rf "$w"
  local mod; mod=$(cd /tmp && go mod download -json "knative.dev/serving@$KNATIVE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  w=$(mktemp -d); cp -r "$mod"/. "$w"; chmod -R u+w "$w"
  (cd "$w" && go list -deps $(printf './cmd/%s ' "${knative_parts[@]}") >/dev/null)
  rm -rf "$w"
  (cd /tmp && go mod download "sigs.k8s.io/kwok@$KWOK_VERSION")
}

start=$(date +%s)
if [ "${2:-}" = fetch ]; then
  { stamp_ok kserve-manager "$KSERVE_VERSION" && knative_cached; } || fetch_modules
  log "living cluster modules fetched ($(( $(date +%s) - start ))s)"
  exit 0
fi
build_controllers
build_kwok
build_kserve
build_knative
kwok_stages
log "living cluster parts ready in $DEST ($(( $(date +%s) - start ))s)"
