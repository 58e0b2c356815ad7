# Shared by hack/provision-test-env.sh and hack/provision-living-cluster.sh (sourced), which
# set DEST, the cache folder: each binary there has a version stamp, so reruns cost nothing.
log() { printf '[provision] %s\n' "$*" >&2; }
stamp_ok() { [ -x "$DEST/$1" ] && [ "$(cat "$DEST/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" > "$DEST/.$1.version"; }

# build_k8s DEST CMD...: builds commands of k8s.io/kubernetes $K8S_VERSION (kube-apiserver,
# kubectl, kube-scheduler...) from the Go module proxy into DEST, from a throwaway module that
# requires k8s.io/kubernetes and points its staging modules at their published versions
# (k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces them with local paths).
build_k8s() {
  local dest=$1; shift
  local staging="v0.${K8S_VERSION#v1.}" minor w kmod
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  w=$(mktemp -d)
  ( cd "$w" && go mod init example.invalid/kubebuild >/dev/null 2>&1
    kmod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    { echo "require k8s.io/kubernetes $K8S_VERSION"
      for m in $(grep -E '=> \./staging/src/' "$kmod" | awk '{print $1}'); do
        echo "replace $m => $m $staging"
      done
    } >> go.mod
    { printf '//go:build tools\n\npackage tools\n\nimport (\n'
      for c in "$@"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
      printf ')\n'; } > tools.go
    go mod tidy >/dev/null 2>&1
    # The version a client sees (kubectl version, discovery) is the release's, not v0.0.0.
    local ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
    # One build for all: shared packages compile once and the links run side by side.
    local pkgs=(); for c in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
    go build -trimpath -ldflags="$ld" -o "$dest/" "${pkgs[@]}" )
  rm -rf "$w"
}
