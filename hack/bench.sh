#!/usr/bin/env bash
# Benchmarks on the sandbox, side by side with the peers in one run: bench.sh logs|history|status...
# Starts the sandbox if it is not running, and stops it again in that case.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TESTBIN:?run through make}" "${STERN:?run through make}"
started=""
if [ ! -f .sandbox/ready ]; then hack/sandbox.sh up >/dev/null; started=1; fi
trap '[ -z "$started" ] || hack/sandbox.sh down >/dev/null' EXIT
go build -o bin/hopsdeploy-bench ./test/bench
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3)"
bin/hopsdeploy-bench -testbin "$TESTBIN" -stern "$STERN" ${BENCH_FLAGS:-} "$@"
