#!/usr/bin/env bash
# Release archives: flat, each holding the binary, LICENSE and the completion helper
# kubectl_complete-hopsdeploy; tar.gz for linux and darwin, zip for windows; plus checksums.
#   dist.sh [os/arch ...]    default: linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VERSION:?}" "${LDFLAGS:?}"
platforms=("$@")
[ ${#platforms[@]} -gt 0 ] || platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)
mkdir -p dist
for p in "${platforms[@]}"; do
  os=${p%/*} arch=${p#*/}
  stage=dist/stage/${os}_${arch}
  rm -rf "$stage"; mkdir -p "$stage"
  bin=kubectl-hopsdeploy; [ "$os" = windows ] && bin=kubectl-hopsdeploy.exe
  echo "[dist] $os/$arch" >&2
  GOOS=$os GOARCH=$arch CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$stage/$bin" ./cmd/kubectl-hopsdeploy
  cp LICENSE hack/kubectl_complete-hopsdeploy "$stage/"
  name=kubectl-hopsdeploy_${VERSION}_${os}_${arch}
  if [ "$os" = windows ]; then
    rm -f "dist/$name.zip"; (cd "$stage" && zip -q -X "../../$name.zip" ./*)
  else
    tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "dist/$name.tar.gz" .
  fi
done
rm -rf dist/stage
(cd dist && sha256sum kubectl-hopsdeploy_* > checksums.txt)
cat dist/checksums.txt >&2
