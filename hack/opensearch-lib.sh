# Shared by hack/opensearch.sh and hack/opensearch-secured.sh (sourced): running an
# OpenSearch from an unpacked distribution, single node on 127.0.0.1, with the machine's Java.
# OpenSearch refuses to run as root: as root, installs go to /var/cache/hopsdeploy (readable
# by all) and servers run as the system user "hopsdeploy", created on first use.
CACHE=${HOPSDEPLOY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hopsdeploy}
RUN_AS=""
if [ "$(id -u)" = 0 ]; then
  CACHE=/var/cache/hopsdeploy
  RUN_AS=hopsdeploy
fi

java_home() {
  if [ -n "${OPENSEARCH_JAVA_HOME:-}" ]; then echo "$OPENSEARCH_JAVA_HOME"; return; fi
  local j; j=$(readlink -f "$(command -v java)")
  dirname "$(dirname "$j")"
}

# prepare_run RUNDIR HOME: a fresh config, data and logs folder for one server.
prepare_run() {
  local run=$1 home=$2
  rm -rf "$run/config" "$run/data" "$run/logs"
  cp -r "$home/config" "$run/config"
  mkdir -p "$run/data" "$run/logs"
  # Relative paths in jvm.options point into the install, which the server may not write.
  sed -i -e "s#logs/gc.log#$run/logs/gc.log#; s#HeapDumpPath=data#HeapDumpPath=$run/data#; s#logs/hs_err#$run/logs/hs_err#" "$run/config/jvm.options"
}

# launch RUNDIR HOME PORT PIDFILE WRITABLE...: start the server in the background; the
# WRITABLE paths become the server user's.
launch() {
  local run=$1 home=$2 port=$3 pidfile=$4; shift 4
  local -a cmd=(env "OPENSEARCH_PATH_CONF=$run/config" "OPENSEARCH_JAVA_HOME=$(java_home)"
    "OPENSEARCH_JAVA_OPTS=${OPENSEARCH_JAVA_OPTS:--Xms512m -Xmx512m}"
    "$home/bin/opensearch" -d -p "$pidfile" -E discovery.type=single-node -E network.host=127.0.0.1
    -E "http.port=$port" -E transport.port=0 -E "path.data=$run/data" -E "path.logs=$run/logs"
    -E cluster.routing.allocation.disk.threshold_enabled=false)
  if [ -n "$RUN_AS" ]; then
    id "$RUN_AS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS"
    chown -R "$RUN_AS:" "$@"
    chmod a+rx "$run"
    (cd /tmp && runuser -u "$RUN_AS" -- "${cmd[@]}") >"$run/start.log" 2>&1 </dev/null
  else
    (cd /tmp && "${cmd[@]}") >"$run/start.log" 2>&1 </dev/null
  fi
}

# await RUNDIR PORT CURL_ARGS...: wait until curl with these arguments succeeds (120 s).
await() {
  local run=$1 port=$2; shift 2
  for _ in $(seq 240); do
    curl -fsS "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  log "did not answer on port $port in 120s; last lines of its log:"
  tail -n 30 "$run/logs/"*.log "$run/start.log" >&2 2>/dev/null || true
  return 1
}

# stop_pidfile PIDFILE: stop the server of that pid file, and wait for it.
stop_pidfile() {
  local pidfile=$1
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  log "stopped (pid $pid)"
}
