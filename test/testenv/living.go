package testenv

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// Living is a control plane that moves by itself: the real kube-scheduler and
// kube-controller-manager (Deployments become ReplicaSets and pods, pods are scheduled
// against node capacity, garbage collection cascades) and KWOK for the nodes and their
// kubelets (pods become Running). Its binaries come from HOPSDEPLOY_LIVING_ASSETS
// (hack/provision-living-cluster.sh; the Makefile sets it). Nothing of it is fabricated: no
// status is written by the tests.
type Living struct {
	*Env
	stops []func() // the network stand-ins (knativenet.go)
	// the stand-ins' clients
	standInKube kubernetes.Interface
	standInDyn  dynamic.Interface
}

// LivingNodes are the KWOK nodes: 8 CPUs and 32 GiB each, no GPU.
const LivingNodes = 2

// StartLiving starts a second control plane with the controllers and KWOK, or fails the
// test (skips outside CI when the binaries are missing).
func StartLiving(t testing.TB) *Living {
	t.Helper()
	bin := required(t, "HOPSDEPLOY_LIVING_ASSETS", "living cluster parts (kube-scheduler, kube-controller-manager, kwok)")
	// Kept when the test fails: the parts' logs are there.
	dir, err := os.MkdirTemp("", "hopsdeploy-living-")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLiving(bin, dir, "")
	if l != nil {
		t.Cleanup(func() {
			l.Stop()
			if t.Failed() {
				t.Logf("the living cluster's logs: %s", dir)
				return
			}
			os.RemoveAll(dir)
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// NewLiving starts the living cluster: its parts from the folder bin, their logs and state
// in dir, container logs read from logRoot (the sandbox's contract: "" for <dir>/logs). On
// an error, what was started is stopped again; the Living returned then only names dir.
func NewLiving(bin, dir, logRoot string) (l *Living, err error) {
	assets, err := Assets()
	if err != nil {
		return nil, err
	}
	for _, part := range []string{"kube-scheduler", "kube-controller-manager", "kwok", "kserve-manager", "knative-controller", "knative-webhook", "knative-autoscaler", "kwok-stages.yaml"} {
		if _, err := os.Stat(filepath.Join(bin, part)); err != nil {
			return nil, fmt.Errorf("%s missing in %s: run `make living`", part, bin)
		}
	}
	e := &Env{Assets: assets, Dir: dir}
	l = &Living{Env: e}
	defer func() {
		if err != nil {
			l.Stop()
		}
	}()
	// KServe's and Knative's own CRDs, not the test copies; KWOK's Logs.
	if err := e.startControlPlane(filepath.Join(bin, "kserve", "crd"), filepath.Join(bin, "knative", "crd"), filepath.Join(bin, "kwok-crd")); err != nil {
		return l, err
	}
	// Container logs: the sandbox's files, served by KWOK's kubelet through the bridge.
	root := logRoot
	if root == "" {
		root = filepath.Join(dir, "logs")
	}
	e.startLogBridge(root)
	if err := l.run(nil, filepath.Join(bin, "kube-scheduler"), "--kubeconfig", e.Kubeconfig, "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0"); err != nil {
		return l, err
	}
	if err := l.run(nil, filepath.Join(bin, "kube-controller-manager"), "--kubeconfig", e.Kubeconfig, "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0",
		"--controllers=*", "--concurrent-deployment-syncs=5", "--node-monitor-grace-period=40s"); err != nil {
		return l, err
	}
	stages, err := kwokStages(filepath.Join(bin, "kwok-stages.yaml"), filepath.Join(RepoRoot(), "test", "kwok", "failure-stages.yaml"), dir)
	if err != nil {
		return l, err
	}
	if err := e.startKWOK(bin, stages, false); err != nil {
		return l, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 1; i <= LivingNodes; i++ {
		if _, err := e.Kube.CoreV1().Nodes().Create(ctx, kwokNode(fmt.Sprintf("kwok-node-%d", i)), metav1.CreateOptions{}); err != nil {
			return l, err
		}
	}
	if err := l.startKnative(bin); err != nil {
		return l, err
	}
	if err := l.startKServe(bin); err != nil {
		return l, err
	}
	// Ready nodes (KWOK's heartbeat), and the node lifecycle controller's not-ready taint
	// gone, before any test schedules onto them.
	return l, e.awaitNodes(ctx, LivingNodes, true)
}

// FailureStages are the failure modes of test/kwok/failure-stages.yaml, by the value of the
// pod annotation StageAnnotation; a pod without it lives as KWOK's own stages say.
var FailureStages = map[string][]string{
	// the KWOK stage each mode replaces
	"init-crashloop":     {"pod-init-container-running", "pod-init-container-completed", "pod-ready"},
	"main-crashloop":     {"pod-ready"},
	"oomkilled":          {"pod-ready"},
	"never-ready":        {"pod-ready"},
	"image-pull-backoff": {"pod-ready"},
	"init-oom":           {"pod-init-container-running", "pod-init-container-completed", "pod-ready"},
	"exit-zero":          {"pod-ready"},
	"missing-volume":     {"pod-init-container-running", "pod-init-container-completed", "pod-ready"},
	"slow-load":          {"pod-init-container-completed", "pod-ready"},
	"liveness-killed":    {"pod-ready"},
}

// StageAnnotation selects a pod's failure stage.
const StageAnnotation = fixtures.StageAnnotation

// kwokStages writes KWOK's own stages, each kept off the pods whose failure mode replaces
// it, and the project's failure stages, into one file in dir.
func kwokStages(kwokFile, failureFile, dir string) (string, error) {
	replaced := map[string][]any{}
	for mode, stages := range FailureStages {
		for _, st := range stages {
			replaced[st] = append(replaced[st], mode)
		}
	}
	b, err := os.ReadFile(kwokFile)
	if err != nil {
		return "", err
	}
	var out []byte
	for _, doc := range strings.Split(string(b), "\n---") {
		var st map[string]any
		if err := yaml.Unmarshal([]byte(doc), &st); err != nil {
			return "", fmt.Errorf("%s: %v", kwokFile, err)
		}
		if st == nil {
			continue
		}
		name, _, _ := unstructured.NestedString(st, "metadata", "name")
		if name == "node-heartbeat" {
			// A node whose kubelet a test stops (StopNode) posts no status any more.
			exprs, _, _ := unstructured.NestedSlice(st, "spec", "selector", "matchExpressions")
			exprs = append(exprs, map[string]any{"key": `.metadata.annotations["` + KubeletAnnotation + `"]`, "operator": "NotIn", "values": []any{"stopped"}})
			if err := unstructured.SetNestedSlice(st, exprs, "spec", "selector", "matchExpressions"); err != nil {
				return "", err
			}
		}
		if modes := replaced[name]; len(modes) > 0 {
			exprs, _, _ := unstructured.NestedSlice(st, "spec", "selector", "matchExpressions")
			exprs = append(exprs, map[string]any{"key": `.metadata.annotations["` + StageAnnotation + `"]`, "operator": "NotIn", "values": modes})
			if err := unstructured.SetNestedSlice(st, exprs, "spec", "selector", "matchExpressions"); err != nil {
				return "", err
			}
		}
		y, err := yaml.Marshal(st)
		if err != nil {
			return "", err
		}
		out = append(append(out, "---\n"...), y...)
	}
	own, err := os.ReadFile(failureFile)
	if err != nil {
		return "", err
	}
	out = append(append(out, "---\n"...), own...)
	path := filepath.Join(dir, "kwok-stages.yaml")
	return path, os.WriteFile(path, out, 0o600)
}

// kwokNode is a node that KWOK manages: capacity for models, but no GPU.
func kwokNode(name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels:      map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi"), corev1.ResourcePods: resource.MustParse("110")},
		},
	}
}

// Stop stops every part and the control plane, and keeps the folder (its logs).
func (l *Living) Stop() {
	for _, stop := range l.stops {
		stop()
	}
	l.stopParts()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// AddNode adds a node that KWOK runs, with these labels and taints besides a KWOK node's
// own, and waits until it is Ready.
func (l *Living) AddNode(ctx context.Context, name string, labels map[string]string, taints []corev1.Taint) error {
	n := kwokNode(name)
	maps.Copy(n.Labels, labels)
	n.Spec.Taints = taints
	if _, err := l.Kube.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		return err
	}
	for {
		got, err := l.Kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			for _, c := range got.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s did not become Ready: %v", name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// KubeletAnnotation set to "stopped" on a node keeps KWOK's heartbeat stage off it.
const KubeletAnnotation = "hopsdeploy.test/kubelet"

// StopNode stops a node's heartbeat, as a node whose kubelet stops: nothing reports its
// status any more, and the node lifecycle controller marks it NotReady after the grace
// period (--node-monitor-grace-period, 40 s here).
func (l *Living) StopNode(ctx context.Context, name string) error {
	patch := []byte(`{"metadata":{"annotations":{"` + KubeletAnnotation + `":"stopped"}}}`)
	_, err := l.Kube.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}
