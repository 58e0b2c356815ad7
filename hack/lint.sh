#!/usr/bin/env bash
# make lint: gofmt, go vet, go mod tidy, staticcheck and govulncheck (the integration tests
# included, through their build tag). $1 is where hack/lint-tools.sh put the tools.
set -euo pipefail
lintbin=${1:?usage: hack/lint.sh LINTBIN}
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "$unformatted"
  echo "gofmt would change the files above"
  exit 1
fi

go vet -tags integration ./...

# go mod tidy must change nothing; what it would change is shown, and undone.
backup=$(mktemp -d)
trap 'rm -rf "$backup"' EXIT
cp go.mod go.sum "$backup/"
go mod tidy
if ! cmp -s go.mod "$backup/go.mod" || ! cmp -s go.sum "$backup/go.sum"; then
  diff -u "$backup/go.mod" go.mod || true
  diff -u "$backup/go.sum" go.sum || true
  cp "$backup/go.mod" "$backup/go.sum" .
  echo "go mod tidy would change go.mod/go.sum"
  exit 1
fi

"$lintbin/staticcheck" -tags integration ./...
"$lintbin/govulncheck" -tags integration -db "file://$lintbin/vulndb" ./...
