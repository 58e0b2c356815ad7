#!/usr/bin/env bash
# Installs and runs a second test OpenSearch with the real security plugin, configured as
# Hopsworks configures its own: TLS on HTTP and transport signed by a CA of its own, basic auth
# for internal users, and a JWT auth domain through which a Hopsworks project's members
# (backend roles data_owner, data_scientist) read the project's indices <project>_* only.
# See docs/opensearch-security-plugin.md.
#
#   opensearch-secured.sh install            fetch the server and the plugin (same version) and install
#   opensearch-secured.sh start RUNDIR PORT  generate certificates, keys and passwords into RUNDIR, start,
#                                            wait until the security index is ready
#   opensearch-secured.sh stop RUNDIR
#
# RUNDIR then holds what clients need (all readable only by the owner, except the CA):
#   certs/ca.pem               the CA (node certificate names: opensearch.hopsdeploy.test, localhost;
#                              no IP address, so https://127.0.0.1 fails host-name verification)
#   certs/hopsworks.pem, .key  a certificate for the Hopsworks REST stand-in (localhost, 127.0.0.1)
#   admin-password             internal user "admin" (all_access)
#   reader-password            internal user "reader" (reads every project's serving indices)
#   jwt-key                    the HS256 key of the JWT auth domain (base64)
#   url                        https://127.0.0.1:PORT
set -euo pipefail
: "${OPENSEARCH_SECURED_VERSION:=2.19.4}"
: "${OPENSEARCH_SECURITY_PLUGIN_VERSION:=$OPENSEARCH_SECURED_VERSION.0}"
HERE=$(cd "$(dirname "$0")" && pwd)
log() { printf '[opensearch-secured] %s\n' "$*" >&2; }
. "$HERE/opensearch-lib.sh"
HOME_DIR=$CACHE/opensearch-secured-$OPENSEARCH_SECURED_VERSION
NODE_NAME=opensearch.hopsdeploy.test

install() {
  if [ -d "$HOME_DIR/plugins/opensearch-security" ]; then log "OpenSearch $OPENSEARCH_SECURED_VERSION with the security plugin: cached in $HOME_DIR"; return; fi
  log "fetching OpenSearch $OPENSEARCH_SECURED_VERSION and opensearch-security $OPENSEARCH_SECURITY_PLUGIN_VERSION from Maven Central"
  local w; w=$(mktemp -d)
  mvn -q -B dependency:copy "-Dartifact=org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_SECURED_VERSION:zip" "-DoutputDirectory=$w" >&2
  mvn -q -B dependency:copy "-Dartifact=org.opensearch.plugin:opensearch-security:$OPENSEARCH_SECURITY_PLUGIN_VERSION:zip" "-DoutputDirectory=$w" >&2
  mkdir -p "$CACHE"
  (cd "$w" && unzip -q "opensearch-$OPENSEARCH_SECURED_VERSION.zip")
  # The plugin installer sets permissions on config/opensearch-security: it runs as the
  # tree's owner (root in CI), and the server later runs as another user.
  OPENSEARCH_JAVA_HOME=$(java_home) "$w/opensearch-$OPENSEARCH_SECURED_VERSION/bin/opensearch-plugin" install -b -s \
    "file://$w/opensearch-security-$OPENSEARCH_SECURITY_PLUGIN_VERSION.zip" >&2
  rm -rf "$HOME_DIR"; mv "$w/opensearch-$OPENSEARCH_SECURED_VERSION" "$HOME_DIR"; rm -rf "$w"
  chmod -R a+rX "$CACHE"
  log "installed in $HOME_DIR"
}

# certs makes the CA, the node's certificate (both TLS layers) and the stand-in's.
certs() {
  local d=$1
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=hopsdeploy test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  leaf "$d" node "/CN=$NODE_NAME" "DNS:$NODE_NAME,DNS:localhost" "serverAuth,clientAuth"
  leaf "$d" admin "/CN=admin" "DNS:admin" "clientAuth"
  leaf "$d" hopsworks "/CN=hopsworks.hopsdeploy.test" "DNS:localhost,IP:127.0.0.1" "serverAuth"
  rm -f "$d/ca.key" "$d"/*.csr "$d"/ca.srl
}

leaf() {
  local d=$1 name=$2 subj=$3 san=$4 eku=$5
  openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$d/$name.rsa.key" -out "$d/$name.csr" 2>/dev/null
  openssl x509 -req -sha256 -days 30 -in "$d/$name.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -extfile <(printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$san" "$eku") \
    -out "$d/$name.pem" 2>/dev/null
  # The security plugin reads PKCS#8 keys only.
  openssl pkcs8 -topk8 -nocrypt -in "$d/$name.rsa.key" -out "$d/$name.key"
  rm -f "$d/$name.rsa.key"
}

secret() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 24; }

hash_password() {
  OPENSEARCH_JAVA_HOME=$(java_home) JAVA_HOME=$(java_home) bash "$HOME_DIR/plugins/opensearch-security/tools/hash.sh" -p "$1" 2>/dev/null | tail -n 1
}

start() {
  local run=${1:?RUNDIR} port=${2:?PORT}
  install
  mkdir -p "$run"
  run=$(cd "$run" && pwd)
  if [ -f "$run/logs/opensearch.pid" ] && kill -0 "$(cat "$run/logs/opensearch.pid")" 2>/dev/null; then log "already running (pid $(cat "$run/logs/opensearch.pid"))"; return; fi
  rm -rf "$run/certs"
  prepare_run "$run" "$HOME_DIR"
  certs "$run/certs"
  cp "$run/certs/node.pem" "$run/certs/node.key" "$run/certs/ca.pem" "$run/certs/admin.pem" "$run/certs/admin.key" "$run/config/"
  local admin reader key
  admin=$(secret); reader=$(secret); key=$(head -c 48 /dev/urandom | base64 -w0)
  (umask 077; printf '%s' "$admin" >"$run/admin-password"; printf '%s' "$reader" >"$run/reader-password"; printf '%s' "$key" >"$run/jwt-key")
  printf 'https://127.0.0.1:%s' "$port" >"$run/url"
  cat >>"$run/config/opensearch.yml" <<YML
plugins.security.ssl.transport.pemcert_filepath: node.pem
plugins.security.ssl.transport.pemkey_filepath: node.key
plugins.security.ssl.transport.pemtrustedcas_filepath: ca.pem
plugins.security.ssl.transport.enforce_hostname_verification: false
plugins.security.ssl.http.enabled: true
plugins.security.ssl.http.pemcert_filepath: node.pem
plugins.security.ssl.http.pemkey_filepath: node.key
plugins.security.ssl.http.pemtrustedcas_filepath: ca.pem
plugins.security.allow_default_init_securityindex: true
plugins.security.authcz.admin_dn: ["CN=admin"]
plugins.security.nodes_dn: ["CN=$NODE_NAME"]
plugins.security.restapi.roles_enabled: ["all_access"]
plugins.security.system_indices.enabled: true
# As Hopsworks sets it: backend roles (the JWT's "roles" claim) name security roles directly.
plugins.security.roles_mapping_resolution: BOTH
YML
  local sec=$run/config/opensearch-security
  sed -e "s#@SIGNING_KEY@#$key#" "$HERE/opensearch-security/config.yml" >"$sec/config.yml"
  cp "$HERE/opensearch-security/roles.yml" "$HERE/opensearch-security/roles_mapping.yml" "$sec/"
  cat >"$sec/internal_users.yml" <<YML
_meta: {type: "internalusers", config_version: 2}
admin: {hash: "$(hash_password "$admin")", reserved: true, backend_roles: ["admin"], description: "test administrator (all_access through its backend role, as Hopsworks' recipe has it)"}
reader: {hash: "$(hash_password "$reader")", description: "reads every serving index, by basic auth"}
YML
  # The secrets stay the caller's: the server owns its config, data and logs only.
  launch "$run" "$HOME_DIR" "$port" "$run/logs/opensearch.pid" "$run/config" "$run/data" "$run/logs"
  # Ready means: TLS answers, the security index is initialised, and admin authenticates.
  await "$run" "$port" --cacert "$run/certs/ca.pem" --resolve "$NODE_NAME:$port:127.0.0.1" -u "admin:$admin" \
    "https://$NODE_NAME:$port/_cluster/health?wait_for_status=yellow&timeout=1s"
  log "ready on https://127.0.0.1:$port (pid $(cat "$run/logs/opensearch.pid")); CA, passwords and the JWT key in $run"
}

stop() { stop_pidfile "${1:?RUNDIR}/logs/opensearch.pid"; }

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" "${3:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 install | start RUNDIR PORT | stop RUNDIR" >&2; exit 2 ;;
esac
