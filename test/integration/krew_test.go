//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
)

// krewEnv is a hermetic krew: its own KREW_ROOT, a PATH of existing folders only, the test
// cluster's kubeconfig.
type krewEnv struct {
	t    *testing.T
	root string
	env  []string
}

func newKrewEnv(t *testing.T) *krewEnv {
	e := testenv.Get(t)
	root := t.TempDir()
	// krew needs its default index to be a git clone it can update (k8s-test-env.md): a
	// clone of an empty local repository stands in for krew-index, with no network.
	empty := filepath.Join(t.TempDir(), "krew-index")
	if err := os.MkdirAll(filepath.Join(empty, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(empty, "plugins", ".keep"), nil, 0o644)
	gitRun(t, empty, "init", "-q")
	gitRun(t, empty, "add", ".")
	gitRun(t, empty, "commit", "-q", "-m", "empty index")
	if err := os.MkdirAll(filepath.Join(root, "index"), 0o755); err != nil {
		t.Fatal(err)
	}
	gitRun(t, root, "clone", "-q", "file://"+empty, filepath.Join(root, "index", "default"))
	path := strings.Join([]string{filepath.Join(root, "bin"), e.Assets, "/usr/local/bin", "/usr/bin", "/bin"}, string(os.PathListSeparator))
	return &krewEnv{t: t, root: root, env: []string{"KREW_ROOT=" + root, "KREW_NO_UPGRADE_CHECK=1", "PATH=" + path, "KUBECONFIG=" + e.Kubeconfig, "HOME=" + root, "NO_COLOR=1"}}
}

// kubectl runs the real kubectl with args; it returns stdout, stderr and the error.
func (k *krewEnv) kubectl(args ...string) (string, string, error) {
	cmd := exec.Command(filepath.Join(testenv.Get(k.t).Assets, "kubectl"), args...)
	cmd.Env = k.env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func (k *krewEnv) must(args ...string) string {
	k.t.Helper()
	out, errOut, err := k.kubectl(args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// buildRelease builds this platform's archive of a version into dir, and renders its
// manifest with the archives served from baseURL; it returns the archive and manifest paths.
func buildRelease(t *testing.T, dir, version, baseURL string) (string, string) {
	t.Helper()
	root := testenv.RepoRoot()
	ld := "-s -w -X github.com/hopsdeploy/kubectl-hopsdeploy/pkg/version.Version=" + version
	platform := runtime.GOOS + "/" + runtime.GOARCH
	run := func(env []string, name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	run([]string{"DIST=" + dir, "VERSION=" + version, "LDFLAGS=" + ld}, "hack/dist.sh", platform)
	manifest := filepath.Join(dir, "manifest", "hopsdeploy.yaml")
	run([]string{"DIST=" + dir, "VERSION=" + version, "RELEASE_URL=" + baseURL}, "hack/krew-manifest.sh", manifest)
	archive := filepath.Join(dir, fmt.Sprintf("kubectl-hopsdeploy_%s_%s_%s.tar.gz", version, runtime.GOOS, runtime.GOARCH))
	return archive, manifest
}

func TestKrewInstallFromArchive(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Running(ns, "fraud"))
	k := newKrewEnv(t)
	dist := t.TempDir()
	archive, manifest := buildRelease(t, dist, "v0.1.0", "https://example.invalid/releases")

	// The manifest passes krew's own validator.
	validator := exec.Command(filepath.Join(e.Assets, "validate-krew-manifest"), "-manifest", manifest, "-skip-install")
	if out, err := validator.CombinedOutput(); err != nil {
		t.Fatalf("validate-krew-manifest: %v\n%s", err, out)
	}

	// A wrong sha256 is refused.
	bad := filepath.Join(t.TempDir(), "hopsdeploy.yaml")
	b, _ := os.ReadFile(manifest)
	sum := strings.Trim(strings.Fields(strings.SplitAfter(string(b), "sha256: ")[1])[0], `"`)
	_ = os.WriteFile(bad, []byte(strings.ReplaceAll(string(b), sum, strings.Repeat("deadbeef", 8))), 0o644)
	if _, errOut, err := k.kubectl("krew", "install", "--manifest="+bad, "--archive="+archive); err == nil || !strings.Contains(errOut, "checksum does not match") {
		t.Fatalf("wrong sha256 accepted: %v %s", err, errOut)
	}

	k.must("krew", "install", "--manifest="+manifest, "--archive="+archive)
	if out := k.must("hopsdeploy", "version"); !strings.Contains(out, "hopsdeploy v0.1.0") {
		t.Errorf("kubectl hopsdeploy version: %q", out)
	}
	contains(t, "status through kubectl", k.must("hopsdeploy", "status", "fraud", "-n", ns), "Status:     Running", "DIAGNOSIS")

	out, errOut, err := k.kubectl("plugin", "list")
	if err != nil || !strings.Contains(out, filepath.Join(k.root, "bin", "kubectl-hopsdeploy")) || strings.Contains(strings.ToLower(errOut), "warning") {
		t.Errorf("plugin list: %v\n%s\n%s", err, out, errOut)
	}

	// Completion through kubectl's plugin completion and the helper from the archive.
	store, _ := filepath.Glob(filepath.Join(k.root, "store", "hopsdeploy", "*", "kubectl_complete-hopsdeploy"))
	if len(store) != 1 {
		t.Fatalf("completion helper not installed: %v", store)
	}
	if err := os.Symlink(store[0], filepath.Join(k.root, "bin", "kubectl_complete-hopsdeploy")); err != nil {
		t.Fatal(err)
	}
	contains(t, "subcommands", k.must("__complete", "hopsdeploy", ""), "status", "logs", "list")
	contains(t, "deployment names", k.must("__complete", "hopsdeploy", "status", "-n", ns, ""), "fraud\n")
	contains(t, "components", k.must("__complete", "hopsdeploy", "logs", "fraud", "-c", ""), "predictor", "transformer")
	contains(t, "flags", k.must("__complete", "hopsdeploy", "logs", "--"), "--container", "--since")

	k.must("krew", "uninstall", "hopsdeploy")
	if _, _, err := k.kubectl("hopsdeploy", "version"); err == nil {
		t.Error("still installed after uninstall")
	}
}

// This repository as a custom krew index: add a local git clone, install, upgrade, uninstall.
func TestKrewCustomIndex(t *testing.T) {
	testenv.Get(t)
	k := newKrewEnv(t)
	dist := t.TempDir()
	srv := httptest.NewServer(http.FileServer(http.Dir(dist)))
	defer srv.Close()

	index := filepath.Join(t.TempDir(), "index")
	gitRun(t, testenv.RepoRoot(), "clone", "-q", "--depth", "1", "file://"+testenv.RepoRoot(), index)
	publish := func(version string) {
		_, manifest := buildRelease(t, dist, version, srv.URL)
		b, _ := os.ReadFile(manifest)
		_ = os.MkdirAll(filepath.Join(index, "plugins"), 0o755)
		if err := os.WriteFile(filepath.Join(index, "plugins", "hopsdeploy.yaml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		gitRun(t, index, "add", "plugins/hopsdeploy.yaml")
		gitRun(t, index, "commit", "-q", "-m", "release "+version, "--allow-empty")
	}
	publish("v0.1.0")
	k.must("krew", "index", "add", "hops", index)
	k.must("krew", "install", "hops/hopsdeploy")
	if out := k.must("hopsdeploy", "version"); !strings.Contains(out, "v0.1.0") {
		t.Errorf("installed from the index: %q", out)
	}
	publish("v0.1.1")
	k.must("krew", "update")
	k.must("krew", "upgrade", "hopsdeploy")
	if out := k.must("hopsdeploy", "version"); !strings.Contains(out, "v0.1.1") {
		t.Errorf("after upgrade: %q", out)
	}
	contains(t, "krew list", k.must("krew", "list"), "hops/hopsdeploy")
	k.must("krew", "uninstall", "hopsdeploy")
}
