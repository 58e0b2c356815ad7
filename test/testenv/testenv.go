// Package testenv starts the real parts that integration tests run against: a kube-apiserver
// and etcd (controller-runtime's envtest on binaries built by hack/provision-test-env.sh), the
// KServe InferenceService CRD, and a Node whose kubelet is KWOK's, so that pods/log works
// through the real API server and the real kubelet API. Its pods keep the status a test
// writes: KWOK here runs the node stages only. (Living, in living.go, adds the controllers and
// KWOK's pod stages: a cluster that moves by itself.)
//
// Binaries come from KUBEBUILDER_ASSETS and HOPSDEPLOY_LIVING_ASSETS (the Makefile sets them).
// Without them a test skips, except under CI=true, where a missing environment fails the run
// so that it cannot hide behind "no test ran".
package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/certs"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/kwoklogs"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Env is a running control plane with KWOK as its node's kubelet.
type Env struct {
	Config     *rest.Config
	Kube       kubernetes.Interface
	Dyn        dynamic.Interface
	Kubeconfig string // an admin kubeconfig file
	Assets     string // the folder of etcd, kube-apiserver, kubectl, krew
	// Logs writes container logs in the sandbox's contract; KWOK's kubelet serves them.
	Logs kwoklogs.Writer
	Dir  string

	env        *envtest.Environment
	procs      []*exec.Cmd
	cutter     *TCPProxy // before KWOK's kubelet port, in the bare Env
	stopBridge func()
}

// RepoRoot is the repository's top folder: from this file's path, or, in a binary built with
// -trimpath (the sandbox's, which shares the plugin's flags) where that path is not a real
// one, the nearest folder above the working directory that holds go.mod.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	if filepath.IsAbs(file) {
		return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	}
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if dir == filepath.Dir(dir) {
			return wd
		}
	}
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

// LivingAssets returns the folder of KWOK and the other living-cluster parts, or an error
// saying how to get them.
func LivingAssets() (string, error) {
	dir := os.Getenv("HOPSDEPLOY_LIVING_ASSETS")
	if dir == "" {
		return "", fmt.Errorf("HOPSDEPLOY_LIVING_ASSETS is not set: run the tests with `make test`, which builds KWOK")
	}
	for _, part := range []string{"kwok", "kwok-stages.yaml", "kwok-crd"} {
		if _, err := os.Stat(filepath.Join(dir, part)); err != nil {
			return "", fmt.Errorf("%s missing in HOPSDEPLOY_LIVING_ASSETS=%s: run `make living`", part, dir)
		}
	}
	return dir, nil
}

// Start starts a control plane, installs the CRD and the node with KWOK as its kubelet,
// with logs in a temporary folder.
func Start() (*Env, error) { return StartWith("", true) }

// StartWith is Start with container logs in logRoot ("" for a temporary folder). With
// cuttable, the API server reaches KWOK's kubelet through a proxy in this process that
// CutKubeletConnections can cut; without it, directly, as a real API server reaches its
// kubelets (the benchmarks: the proxy's copies took a sixth of the machine's CPU while a
// million log lines passed, docs/benchmarks.md).
func StartWith(logRoot string, cuttable bool) (e *Env, err error) {
	assets, err := Assets()
	if err != nil {
		return nil, err
	}
	living, err := LivingAssets()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hopsdeploy-testenv-")
	if err != nil {
		return nil, err
	}
	e = &Env{Assets: assets, Dir: dir}
	defer func() {
		if err != nil { // stop what was started; the caller gets the error alone
			e.Stop()
			e = nil
		}
	}()
	if err := e.startControlPlane(filepath.Join(RepoRoot(), "test", "testdata", "crds"), filepath.Join(living, "kwok-crd")); err != nil {
		return e, err
	}
	root := logRoot
	if root == "" {
		root = filepath.Join(dir, "logs")
	}
	e.startLogBridge(root)
	// KWOK's node stages only: a pod keeps the status the test wrote.
	stages, err := kwokNodeStages(filepath.Join(living, "kwok-stages.yaml"), dir)
	if err != nil {
		return e, err
	}
	if err := e.startKWOK(living, stages, cuttable); err != nil {
		return e, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.Kube.CoreV1().Nodes().Create(ctx, fixtures.Node(), metav1.CreateOptions{}); err != nil {
		return e, fmt.Errorf("create node: %w", err)
	}
	return e, e.awaitNodes(ctx, 1, false)
}

// startLogBridge serves the container logs under root (the sandbox's contract) through KWOK.
func (e *Env) startLogBridge(root string) {
	b := &kwoklogs.Bridge{Root: root, Kube: e.Kube, Dyn: e.Dyn}
	e.Logs = kwoklogs.Writer{Root: root, Bridge: b}
	ctx, stop := context.WithCancel(context.Background())
	e.stopBridge = stop
	go func() { _ = b.Run(ctx) }()
}

// startKWOK starts KWOK, with the stages in the file stages, as the kubelet of the nodes
// annotated kwok.x-k8s.io/node=fake. With cuttable, the nodes' kubelet port is a proxy's
// that CutKubeletConnections can cut.
func (e *Env) startKWOK(bin, stages string, cuttable bool) error {
	// KWOK's kubelet server speaks TLS, as the API server expects of kubelets (it verifies
	// none here, so the CA is not kept).
	_, cert, err := certs.Serving()
	if err != nil {
		return err
	}
	if err := writeCert(filepath.Join(e.Dir, "kwok-serving"), cert); err != nil {
		return err
	}
	raiseInotifyInstances()
	port, err := freePort()
	if err != nil {
		return err
	}
	advertised := port
	if cuttable {
		if e.cutter, err = newTCPProxy("127.0.0.1:" + strconv.Itoa(port)); err != nil {
			return err
		}
		advertised = e.cutter.Port()
	}
	return e.run(nil, filepath.Join(bin, "kwok"), "--kubeconfig", e.Kubeconfig, "--config", stages, "--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake", "--node-ip=127.0.0.1", "--node-port="+strconv.Itoa(advertised),
		"--server-address=127.0.0.1:"+strconv.Itoa(port), "--cidr=10.0.0.1/24", "--enable-crds=Logs",
		"--tls-cert-file="+filepath.Join(e.Dir, "kwok-serving", "tls.crt"), "--tls-private-key-file="+filepath.Join(e.Dir, "kwok-serving", "tls.key"))
}

// InotifyInstances is what a node needs of fs.inotify.max_user_instances for the tests: every
// followed log holds an inotify instance in KWOK's kubelet, as in the real kubelet (the same
// cri-client code), and the load test and the follow benchmark follow 300 at once. Linux's
// default, 128, is why real nodes raise it.
const InotifyInstances = 1024

// raiseInotifyInstances raises the machine's limit to InotifyInstances, as a node's set-up
// does, where it may (as root); elsewhere a followed stream past the limit fails with KWOK's
// "too many open files", which the load test explains.
func raiseInotifyInstances() {
	const path = "/proc/sys/fs/inotify/max_user_instances"
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n < InotifyInstances {
		_ = os.WriteFile(path, []byte(strconv.Itoa(InotifyInstances)), 0o644)
	}
}

// awaitNodes waits until n nodes are Ready (KWOK's heartbeat) and, with untainted, the node
// lifecycle controller has lifted the not-ready taint that admission puts on a new node
// (where it runs: a scheduler would not place pods before).
func (e *Env) awaitNodes(ctx context.Context, n int, untainted bool) error {
	for {
		nodes, err := e.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		ready := 0
		if err == nil {
			for _, node := range nodes.Items {
				for _, c := range node.Status.Conditions {
					if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue && (!untainted || len(node.Spec.Taints) == 0) {
						ready++
					}
				}
			}
		}
		if ready == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("KWOK's nodes did not become Ready in time; kwok's log ends:\n%s", e.logTail("kwok"))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// kwokNodeStages writes KWOK's node stages alone (initialize, heartbeat) into a file in dir.
func kwokNodeStages(kwokFile, dir string) (string, error) {
	b, err := os.ReadFile(kwokFile)
	if err != nil {
		return "", err
	}
	var out []string
	for _, doc := range strings.Split(string(b), "\n---") {
		if strings.Contains(doc, "kind: Node\n") || strings.Contains(doc, "kind: Node\r\n") {
			out = append(out, strings.TrimPrefix(strings.TrimSpace(doc), "---"))
		}
	}
	if len(out) == 0 {
		return "", fmt.Errorf("%s: no node stage", kwokFile)
	}
	path := filepath.Join(dir, "kwok-node-stages.yaml")
	return path, os.WriteFile(path, []byte("---\n"+strings.Join(out, "\n---\n")+"\n"), 0o600)
}

// CutKubeletConnections drops every connection between the API server and the node's
// kubelet, as a network fault would, and returns how many it dropped.
func (e *Env) CutKubeletConnections() int {
	if e.cutter == nil {
		return 0
	}
	return e.cutter.Cut()
}

// run starts a part in the background, its output in <Dir>/<part>.log; env is added to ours.
func (e *Env) run(env []string, bin string, args ...string) error {
	logf, err := os.Create(filepath.Join(e.Dir, filepath.Base(bin)+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %v", bin, err)
	}
	e.procs = append(e.procs, cmd)
	return nil
}

// logTail is the end of a part's log, for a failure's message.
func (e *Env) logTail(part string) string {
	b, _ := os.ReadFile(filepath.Join(e.Dir, part+".log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// stopParts stops the parts and the control plane, and keeps Dir.
func (e *Env) stopParts() {
	if e.stopBridge != nil {
		e.stopBridge()
	}
	for _, p := range e.procs {
		_ = p.Process.Kill()
		_, _ = p.Process.Wait()
	}
	if e.cutter != nil {
		e.cutter.Close()
	}
	if e.env != nil {
		_ = e.env.Stop()
	}
}

// startControlPlane starts envtest's etcd and kube-apiserver with the CRDs in a folder, and the clients
// and admin kubeconfig of the Env.
func (e *Env) startControlPlane(crds ...string) error {
	// envtest logs through controller-runtime's logger, which prints a stack trace to say
	// that nobody set it: what it would log is not the tests' business.
	ctrllog.SetLogger(logr.Discard())
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

// Stop stops everything Start started and removes its folder.
func (e *Env) Stop() {
	e.stopParts()
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

// Apply creates a scenario or fails the test. It returns once KWOK serves the logs of the
// scenario's pods.
func (e *Env) Apply(t testing.TB, sc fixtures.Scenario) fixtures.Scenario {
	t.Helper()
	if err := fixtures.Apply(context.Background(), e.Kube, e.Dyn, e.Logs, sc); err != nil {
		t.Fatal(err)
	}
	e.AwaitLogs(t, sc.Serving.Namespace, sc.PodNames()...)
	return sc
}

// AwaitLogs waits until KWOK serves the logs of the pods, or fails the test (WaitForLogs).
func (e *Env) AwaitLogs(t testing.TB, ns string, pods ...string) {
	t.Helper()
	if err := e.WaitForLogs(context.Background(), ns, pods...); err != nil {
		t.Fatal(err)
	}
}

// WaitForLogs waits until KWOK serves the logs of the pods: the bridge configures a pod as
// its watch sees it, and KWOK learns of that through a watch of its own, so a pod just
// created may not be served for some milliseconds. A pod without a node has no logs to wait
// for.
func (e *Env) WaitForLogs(ctx context.Context, ns string, pods ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for _, name := range pods {
		for {
			p, err := e.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil || p.Spec.NodeName != fixtures.NodeName {
				break
			}
			c := p.Spec.Containers[0].Name
			if _, err = e.Kube.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{Container: c, TailLines: ptr.To(int64(0))}).DoRaw(ctx); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("KWOK does not serve the logs of pod %s/%s: %v", ns, name, err)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
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
