#!/usr/bin/env bash
# Builds the real control plane used by tests and the sandbox, from the Go module proxy only:
# etcd, kube-apiserver and kubectl (k8s.io/kubernetes through a throwaway module that pins every
# staging module to its release), krew and validate-krew-manifest. Each binary is skipped when it
# is already in DEST with a matching version stamp, so reruns cost nothing.
#   usage: provision-test-env.sh DEST
# Versions come from the environment (the Makefile pins them in one place).
set -euo pipefail
DEST=${1:?usage: provision-test-env.sh DEST}
: "${K8S_VERSION:?}" "${ETCD_VERSION:?}" "${KREW_VERSION:?}" "${K9S_VERSION:?}"
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
export CGO_ENABLED=0 GOFLAGS=-mod=mod
. "$(dirname "$0")/provision-lib.sh"


work() { local w; w=$(mktemp -d); echo "$w"; }

build_etcd() {
  stamp_ok etcd "$ETCD_VERSION" && { log "etcd $ETCD_VERSION: cached"; return; }
  log "building etcd $ETCD_VERSION"
  local w; w=$(work)
  ( cd "$w" && go mod init example.invalid/etcdbuild >/dev/null 2>&1
    printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
    go build -trimpath -ldflags='-s -w' -o "$DEST/etcd" go.etcd.io/etcd/server/v3 )
  rm -rf "$w"; stamp etcd "$ETCD_VERSION"
}

# One module for both kube-apiserver and kubectl, so they share one dependency graph.
build_kube() {
  if stamp_ok kube-apiserver "$K8S_VERSION" && stamp_ok kubectl "$K8S_VERSION"; then
    log "kube-apiserver and kubectl $K8S_VERSION: cached"; return
  fi
  log "building kube-apiserver and kubectl $K8S_VERSION (about 5 minutes cold)"
  build_k8s "$DEST" kube-apiserver kubectl
  stamp kube-apiserver "$K8S_VERSION"; stamp kubectl "$K8S_VERSION"
}

build_krew() {
  if stamp_ok krew "$KREW_VERSION" && stamp_ok validate-krew-manifest "$KREW_VERSION"; then
    log "krew $KREW_VERSION: cached"; return
  fi
  log "building krew $KREW_VERSION"
  GOBIN="$DEST" go install -trimpath -ldflags='-s -w' "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION"
  GOBIN="$DEST" go install -trimpath -ldflags='-s -w' "sigs.k8s.io/krew/cmd/validate-krew-manifest@$KREW_VERSION"
  ln -sf krew "$DEST/kubectl-krew"
  stamp krew "$KREW_VERSION"; stamp validate-krew-manifest "$KREW_VERSION"
}

# k9s reads plugin files against the JSON schemas in its module: they are fetched from the
# module proxy (no k9s binary: it is a terminal UI), for the test of contrib/k9s.
fetch_k9s_schemas() {
  stamp_ok k9s-schemas "$K9S_VERSION" && { log "k9s $K9S_VERSION plugin schemas: cached"; return; }
  log "fetching k9s $K9S_VERSION's plugin schemas"
  local dir
  dir=$(go mod download -json "github.com/derailed/k9s@$K9S_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$DEST/k9s-schemas"
  cp "$dir"/internal/config/json/schemas/plugin*.json "$DEST/k9s-schemas/"
  chmod 644 "$DEST"/k9s-schemas/*.json
  stamp k9s-schemas "$K9S_VERSION"
}

start=$(date +%s)
fetch_k9s_schemas
build_etcd
build_krew
build_kube
log "binaries ready in $DEST ($(( $(date +%s) - start ))s)"
