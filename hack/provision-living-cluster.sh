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
: "${K8S_VERSION:?}" "${KWOK_VERSION:?}" "${KSERVE_VERSION:?}"
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
  (cd /tmp && go mod download "sigs.k8s.io/kwok@$KWOK_VERSION")
}

start=$(date +%s)
if [ "${2:-}" = fetch ]; then
  stamp_ok kserve-manager "$KSERVE_VERSION" || fetch_modules
  log "living cluster modules fetched ($(( $(date +%s) - start ))s)"
  exit 0
fi
build_controllers
build_kwok
build_kserve
kwok_stages
log "living cluster parts ready in $DEST ($(( $(date +%s) - start ))s)"
