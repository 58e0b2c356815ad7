#!/usr/bin/env bash
# The Hopsworks REST stand-in (bin/hopsdeploy-sandbox hopsworks) in front of the secured
# OpenSearch of a folder, for the sandbox and the benchmarks. Sourced:
#   standin_start DIR ADDR PROJECTS   start it unless running; an API key in DIR/hopsworks-api-key,
#                                     its URL in DIR/hopsworks-url; returns when it answers
#   standin_stop DIR                  stop it
standin_start() {
  local dir=$1 addr=$2 projects=$3
  [ -s "$dir/hopsworks-api-key" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$dir/hopsworks-api-key")
  if ! { [ -f "$dir/hopsworks.pid" ] && kill -0 "$(cat "$dir/hopsworks.pid")" 2>/dev/null; }; then
    setsid bin/hopsdeploy-sandbox hopsworks --dir "$dir" --listen "$addr" --projects "$projects" >"$dir/hopsworks.log" 2>&1 </dev/null &
    echo $! > "$dir/hopsworks.pid"
    # Ready when it answers at all (401 without a key: curl -f exits 22).
    local rc
    for _ in $(seq 40); do
      rc=0; curl -fsS --cacert "$dir/opensearch-secured/certs/ca.pem" "https://$addr/hopsworks-api/api/variables/x" >/dev/null 2>&1 || rc=$?
      [ "$rc" = 22 ] && break
      sleep 0.25
    done
  fi
  echo "https://$addr" > "$dir/hopsworks-url"
}

standin_stop() {
  local dir=$1
  [ -f "$dir/hopsworks.pid" ] || return 0
  kill -TERM "$(cat "$dir/hopsworks.pid")" 2>/dev/null || true
  rm -f "$dir/hopsworks.pid"
}
