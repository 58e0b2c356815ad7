#!/usr/bin/env bash
# make fuzz: every fuzz target of the module, found in the sources, for $1 (e.g. 30s) each.
# Their seed corpora run in make test.
set -euo pipefail
fuzztime=${1:-30s}
cd "$(dirname "$0")/.."
git grep -n '^func Fuzz[A-Z][A-Za-z]*(' -- '*_test.go' | while IFS=: read -r file _ decl; do
  target=$(sed -E 's/^func (Fuzz[A-Za-z]+)\(.*/\1/' <<<"$decl")
  echo "== $(dirname "$file") $target"
  go test "./$(dirname "$file")" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime"
done
