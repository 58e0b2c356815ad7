#!/usr/bin/env bash
# Debian's Chromium, for the test that opens report.html in a real headless browser. Installed
# from Debian's packages when it is not on the machine (as root, or through sudo).
set -euo pipefail
log() { echo "[chromium] $*"; }
if command -v chromium >/dev/null 2>&1; then
  log "$(chromium --version 2>/dev/null | head -1): installed"
  exit 0
fi
log "installing Debian's chromium (about a minute)"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
log "$(chromium --version 2>/dev/null | head -1): installed"
