#!/usr/bin/env bash
# plugins/hopsdeploy.yaml: the krew manifest of the current version, with the real sha256 of
# the archives in dist/, so that this repository serves as a custom krew index
# (`kubectl krew index add hopsdeploy <this repo>`).
#   krew-manifest.sh [OUT]   default OUT: plugins/hopsdeploy.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VERSION:?}"
OUT=${1:-plugins/hopsdeploy.yaml}
BASE=${RELEASE_URL:-https://github.com/hopsdeploy/kubectl-hopsdeploy/releases/download/$VERSION}
DIST=${DIST:-dist}
sha() { awk -v f="$1" '$2==f {print $1}' "$DIST/checksums.txt"; }
mkdir -p "$(dirname "$OUT")"
{
  sed -n '/^apiVersion/,/^  platforms:/p' krew.yaml | sed "s/{{ .TagName }}/$VERSION/g"
  for p in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64; do
    os=${p%/*} arch=${p#*/}
    ext=tar.gz bin=kubectl-hopsdeploy
    [ "$os" = windows ] && ext=zip bin=kubectl-hopsdeploy.exe
    f=kubectl-hopsdeploy_${VERSION}_${os}_${arch}.$ext
    s=$(sha "$f")
    [ -n "$s" ] || continue
    cat <<YAML
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $BASE/$f
    sha256: "$s"
    files:
    - from: $bin
      to: .
    - from: kubectl_complete-hopsdeploy
      to: .
    - from: LICENSE
      to: .
    bin: $bin
YAML
  done
} > "$OUT"
echo "[krew] wrote $OUT" >&2
