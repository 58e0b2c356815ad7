// Package testenv starts the real parts that integration tests run against: a kube-apiserver
// and etcd (controller-runtime's envtest on binaries built by hack/provision-test-env.sh), the
// KServe InferenceService CRD, and a Node whose kubelet endpoint is an in-process log server,
// so that pods/log works through the real API server.
//
// Binaries come from KUBEBUILDER_ASSETS (the Makefile sets it). Without them a test skips,
// except under CI=true, where a missing environment fails the run so that it cannot hide
// behind "no test ran".
package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/logserver"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Env is a running control plane with its log server.
type Env struct {
	Config     *rest.Config
	Kube       kubernetes.Interface
	Dyn        dynamic.Interface
	Kubeconfig string // an admin kubeconfig file
	Assets     string // the folder of etcd, kube-apiserver, kubectl, krew
	LogServer  *logserver.Server
	Logs       logserver.Writer
	Dir        string

	env *envtest.Environment
	srv *httptest.Server
}

// RepoRoot is the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Assets returns the folder holding the control-plane binaries, or an error saying how to get them.
func Assets() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		return "", fmt.Errorf("KUBEBUILDER_ASSETS is not set: run the tests with `make test`, which builds the control plane")
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("%s missing in KUBEBUILDER_ASSETS=%s: run `make testbin`", b, dir)
		}
	}
	return dir, nil
}

// Start starts a control plane, installs the CRD and the log server's node, with logs in a
// temporary folder.
func Start() (*Env, error) { return StartWith("") }

// StartWith is Start with the log server reading logRoot ("" for a temporary folder).
func StartWith(logRoot string) (*Env, error) {
	assets, err := Assets()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hopsdeploy-testenv-")
	if err != nil {
		return nil, err
	}
	e := &Env{Assets: assets, Dir: dir}
	if err := e.startControlPlane(filepath.Join(RepoRoot(), "test", "testdata", "crds")); err != nil {
		return nil, err
	}

	root := logRoot
	if root == "" {
		root = filepath.Join(dir, "logs")
	}
	e.LogServer = logserver.New(root)
	e.Logs = logserver.Writer{Root: root}
	e.srv = httptest.NewTLSServer(e.LogServer)
	_, portStr, _ := net.SplitHostPort(e.srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := fixtures.EnsureNode(ctx, e.Kube, int32(port)); err != nil {
		return nil, fmt.Errorf("create node: %w", err)
	}
	return e, nil
}

// startControlPlane starts envtest's etcd and kube-apiserver with the CRDs in a folder, and the clients
// and admin kubeconfig of the Env.
func (e *Env) startControlPlane(crds ...string) error {
	e.env = &envtest.Environment{
		BinaryAssetsDirectory: e.Assets,
		CRDDirectoryPaths:     crds,
		ErrorIfCRDPathMissing: true,
	}
	// Do not depend on the host having a routable interface (see k8s-test-env.md).
	e.env.ControlPlane.GetAPIServer().Configure().Set("endpoint-reconciler-type", "none")
	var err error
	if e.Config, err = e.env.Start(); err != nil {
		return fmt.Errorf("start control plane: %w", err)
	}
	e.Config.QPS, e.Config.Burst = 200, 400
	if e.Kube, err = kubernetes.NewForConfig(e.Config); err != nil {
		return err
	}
	if e.Dyn, err = dynamic.NewForConfig(e.Config); err != nil {
		return err
	}
	e.Kubeconfig, err = e.KubeconfigFor("admin", []string{"system:masters"})
	return err
}

// Stop stops everything Start started.
func (e *Env) Stop() {
	if e.srv != nil {
		e.srv.CloseClientConnections()
		e.srv.Close()
	}
	if e.env != nil {
		_ = e.env.Stop()
	}
	os.RemoveAll(e.Dir)
}

// KubeconfigFor writes a kubeconfig for a user in groups and returns its path.
func (e *Env) KubeconfigFor(name string, groups []string) (string, error) {
	u, err := e.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return "", err
	}
	b, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(e.Dir, "kubeconfig-"+name)
	return path, os.WriteFile(path, b, 0o600)
}

// Namespace creates a fresh namespace for one test (namespaces are never deleted: without a
// namespace controller they would stay Terminating).
func (e *Env) Namespace(t testing.TB, labels ...string) string {
	t.Helper()
	name := "t-" + rand.String(8)
	l := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	if err := fixtures.EnsureNamespace(context.Background(), e.Kube, name, l); err != nil {
		t.Fatal(err)
	}
	return name
}

// Apply creates a scenario or fails the test.
func (e *Env) Apply(t testing.TB, sc fixtures.Scenario) fixtures.Scenario {
	t.Helper()
	if err := fixtures.Apply(context.Background(), e.Kube, e.Dyn, e.Logs, sc); err != nil {
		t.Fatal(err)
	}
	return sc
}

// GrantRole gives user a Role in ns with the rules, through a RoleBinding.
func (e *Env) GrantRole(t testing.TB, ns, user string, rules []rbacv1.PolicyRule) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: user + "-role", Namespace: ns}, Rules: rules}
	if _, err := e.Kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user + "-binding", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: user, APIGroup: "rbac.authorization.k8s.io"}}}
	if _, err := e.Kube.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// DeletePod removes a pod at once (a pod on a node would otherwise wait for a kubelet).
func (e *Env) DeletePod(t testing.TB, ns, name string) {
	t.Helper()
	zero := int64(0)
	if err := e.Kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
}

// UpdatePodStatus changes a pod's status with fn.
func (e *Env) UpdatePodStatus(t testing.TB, ns, name string, fn func(*corev1.Pod)) {
	t.Helper()
	ctx := context.Background()
	p, err := e.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fn(p)
	if _, err := e.Kube.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Main runs a test package's tests around one shared Env, stored in Shared. Without the
// binaries, tests that call Get skip; under CI=true the run fails instead.
func Main(m *testing.M) {
	var code int
	func() {
		e, err := Start()
		if err != nil {
			skipReason = err.Error()
			if os.Getenv("CI") == "true" {
				fmt.Fprintf(os.Stderr, "FAIL: integration environment: %v\n", err)
				code = 1
				return
			}
		} else {
			Shared = e
			defer e.Stop()
		}
		if code = buildPlugin(); code != 0 {
			return
		}
		code = m.Run()
	}()
	os.Exit(code)
}

var (
	// Shared is the package's Env, set by Main.
	Shared     *Env
	skipReason string
	// PluginBin is the plugin binary built by Main, in a folder of its own.
	PluginBin string
)

// Get returns the shared Env, or skips the test when there is none.
func Get(t testing.TB) *Env {
	t.Helper()
	if Shared == nil {
		t.Skipf("no integration environment: %s", skipReason)
	}
	return Shared
}

func buildPlugin() int {
	dir, err := os.MkdirTemp("", "hopsdeploy-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	PluginBin = filepath.Join(dir, "kubectl-hopsdeploy")
	cmd := exec.Command("go", "build", "-o", PluginBin, "./cmd/kubectl-hopsdeploy")
	cmd.Dir = RepoRoot()
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: build plugin: %v\n", err)
		return 1
	}
	return 0
}
