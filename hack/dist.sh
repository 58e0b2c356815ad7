#!/usr/bin/env bash
# Release archives: flat, each holding the binary, LICENSE and the completion helper
# kubectl_complete-hopsdeploy; tar.gz for linux and darwin, zip for windows; plus checksums.
#   dist.sh [os/arch ...]    default: linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VERSION:?}" "${LDFLAGS:?}"
platforms=("$@")
[ ${#platforms[@]} -gt 0 ] || platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)
STAMP=${STAMP:-$(git log -1 --format=%cI 2>/dev/null || echo 2026-01-01T00:00:00Z)}
DIST=${DIST:-dist}
mkdir -p "$DIST"; DIST=$(cd "$DIST" && pwd)
for p in "${platforms[@]}"; do
  os=${p%/*} arch=${p#*/}
  stage=$DIST/stage/${os}_${arch}
  rm -rf "$stage"; mkdir -p "$stage"
  bin=kubectl-hopsdeploy; [ "$os" = windows ] && bin=kubectl-hopsdeploy.exe
  echo "[dist] $os/$arch" >&2
  GOOS=$os GOARCH=$arch CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$stage/$bin" ./cmd/kubectl-hopsdeploy
  cp LICENSE hack/kubectl_complete-hopsdeploy "$stage/"
  chmod 0755 "$stage/$bin" "$stage/kubectl_complete-hopsdeploy"; chmod 0644 "$stage/LICENSE"
  # Reproducible: fixed times, owners and order, no gzip timestamp.
  touch -d "$STAMP" "$stage"/*
  name=kubectl-hopsdeploy_${VERSION}_${os}_${arch}
  if [ "$os" = windows ]; then
    rm -f "$DIST/$name.zip"; (cd "$stage" && TZ=UTC zip -q -X "$DIST/$name.zip" $(ls))
  else
    tar -C "$stage" --sort=name --mtime="$STAMP" --owner=0 --group=0 --numeric-owner -cf - $(ls "$stage") | gzip -n > "$DIST/$name.tar.gz"
  fi
done
rm -rf "$DIST/stage"
(cd "$DIST" && sha256sum kubectl-hopsdeploy_* > checksums.txt)
cat "$DIST/checksums.txt" >&2
