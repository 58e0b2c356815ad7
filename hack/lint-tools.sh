#!/usr/bin/env bash
# Installs the linters that `make lint` runs, at the versions pinned in the Makefile, from the
# Go module proxy only, into DEST (a cache outside the clone; reruns cost nothing):
#   staticcheck   honnef.co/go/tools/cmd/staticcheck
#   govulncheck   golang.org/x/vuln/cmd/govulncheck
#   vulndb/       Go's vulnerability database, built offline from the golang.org/x/vulndb
#                 module's OSV files by its own indexdb command: vuln.go.dev is not reachable
#                 from CI, the module proxy is. Its date is the module's pseudo-version.
#   usage: lint-tools.sh DEST
set -euo pipefail
DEST=${1:?usage: lint-tools.sh DEST}
: "${STATICCHECK_VERSION:?}" "${GOVULNCHECK_VERSION:?}" "${VULNDB_VERSION:?}"
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOBIN="$DEST"
log() { printf '[lint-tools] %s\n' "$*" >&2; }
stamp_ok() { [ -e "$DEST/$1" ] && [ "$(cat "$DEST/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" > "$DEST/.$1.version"; }

if ! stamp_ok staticcheck "$STATICCHECK_VERSION"; then
  log "installing staticcheck $STATICCHECK_VERSION"
  go install -trimpath "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
  stamp staticcheck "$STATICCHECK_VERSION"
fi
if ! stamp_ok govulncheck "$GOVULNCHECK_VERSION"; then
  log "installing govulncheck $GOVULNCHECK_VERSION"
  go install -trimpath "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
  stamp govulncheck "$GOVULNCHECK_VERSION"
fi
if ! stamp_ok vulndb "$VULNDB_VERSION"; then
  log "building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION"
  go install -trimpath "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION"
  src=$(go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  rm -rf "$DEST/vulndb"
  "$DEST/indexdb" -vulns "$src/data/osv" -out "$DEST/vulndb"
  stamp vulndb "$VULNDB_VERSION"
fi
log "linters ready in $DEST"
