//go:build integration

package integration

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// awaitStatus runs status until its output says every one of says (or within passes), and
// checks it.
func awaitStatus(t *testing.T, env []string, within time.Duration, ns, name string, says ...string) result {
	t.Helper()
	var r result
	deadline := time.Now().Add(within)
	for {
		r = pluginEnv(t, env, "status", name, "-n", ns)
		ok := true
		for _, s := range says {
			ok = ok && strings.Contains(r.out, s)
		}
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	contains(t, name, r.out, says...)
	t.Logf("%s:\n%s", name, r.out)
	return r
}

// The failures that real clusters produce around a deployment, each brought about by the
// part that produces it: the API server's quota and limit admission with the ReplicaSet
// controller, the scheduler, the node lifecycle controller; KWOK stages only where a kubelet
// would act (a volume it cannot mount, a model server that exits 0, a storage-initializer
// killed for memory). For each, status names the cause, and --until ready does not wait for
// what will not change.
func TestLivingClusterFailures(t *testing.T) {
	ctx := context.Background()
	l, env := livingProject(t, "living-cluster")
	ns := "living-cluster"

	// The project's quota and limits, as an administrator sets them, each in a project of
	// its own (they apply to the whole namespace).
	quotaNS, limitsNS := "living-quota", "living-limits"
	for _, p := range []string{quotaNS, limitsNS} {
		if err := fixtures.EnsureNamespace(ctx, l.Kube, p, map[string]string{"hopsworks.ai/project": strings.ReplaceAll(p, "-", "_")}); err != nil {
			t.Fatal(err)
		}
	}
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "hopsworks-quota", Namespace: quotaNS},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse("6")}}}
	if _, err := l.Kube.CoreV1().ResourceQuotas(quotaNS).Create(ctx, quota, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The quota counts once the controller-manager has computed its usage: until then the
	// API server admits pods past it.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		q, err := l.Kube.CoreV1().ResourceQuotas(quotaNS).Get(ctx, quota.Name, metav1.GetOptions{})
		if err == nil && len(q.Status.Hard) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the quota's usage was not computed: %v", err)
		}
	}
	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "per-container", Namespace: limitsNS},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer, Max: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}}}}
	if _, err := l.Kube.CoreV1().LimitRanges(limitsNS).Create(ctx, lr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A node pool for inference, tainted, which only deployments that tolerate it use.
	pool := map[string]string{"hopsworks.ai/pool": "inference"}
	taint := corev1.Taint{Key: "hopsworks.ai/dedicated", Value: "inference", Effect: corev1.TaintEffectNoSchedule}
	if err := l.AddNode(ctx, "kwok-inference-1", pool, []corev1.Taint{taint}); err != nil {
		t.Fatal(err)
	}
	tolerate := []any{map[string]any{"key": taint.Key, "operator": "Equal", "value": taint.Value, "effect": string(taint.Effect)},
		// a node that stops reporting: its pods are evicted after 20 s, not the default 300
		map[string]any{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": int64(20)}}

	// KServe's default memory request is 2Gi: a limit below it is refused (see "refused").
	cpu4 := map[string]any{"cpu": "4", "memory": "2Gi"}
	small := map[string]any{"cpu": "1", "memory": "2Gi"}
	livingISVC(t, l, quotaNS, "quota", 81, isvcSpec{Limits: map[string]any{"cpu": "8", "memory": "2Gi"}})
	livingISVC(t, l, limitsNS, "limited", 82, isvcSpec{Limits: cpu4})
	livingISVC(t, l, ns, "picky", 83, isvcSpec{NodeSelector: map[string]string{"hopsworks.ai/gpu-type": "a100"}, Limits: cpu4})
	livingISVC(t, l, ns, "tainted", 84, isvcSpec{NodeSelector: pool, Limits: small})
	livingISVC(t, l, ns, "nopvc", 85, isvcSpec{Limits: small,
		Volumes: []map[string]any{{"name": "models-cache", "persistentVolumeClaim": map[string]any{"claimName": "models-cache"}}}})
	livingISVC(t, l, ns, "nocfg", 86, isvcSpec{PredictorStage: "missing-volume", Limits: small,
		Volumes: []map[string]any{{"name": "feature-config", "configMap": map[string]any{"name": "feature-config"}}}})
	livingISVC(t, l, ns, "quitter", 87, isvcSpec{PredictorStage: "exit-zero", Limits: small})
	livingISVC(t, l, ns, "bigzip", 88, isvcSpec{PredictorStage: "init-oom", Limits: small})
	livingISVC(t, l, ns, "stranded", 89, isvcSpec{NodeSelector: pool, Tolerations: tolerate, Limits: small})
	// A memory limit below KServe's default request: the API server refuses the Deployment
	// KServe makes, and KServe says so in events only.
	livingISVC(t, l, ns, "refused", 90, isvcSpec{Limits: map[string]any{"cpu": "1", "memory": "1Gi"}})
	// A DEFAULT-tool deployment whose server never becomes ready, with a progress deadline of
	// 10 s: the Deployment controller says when it passes.
	stuck := fixtures.LivingDeployment{Scenario: fixtures.DefaultRunning(ns, "stuck"), Default: true,
		Spec: isvcSpec{PredictorStage: "never-ready", ProgressDeadline: 10, GracePeriod: 2}}
	stuck.Scenario.Serving.ID = 93
	if err := stuck.Create(ctx, l.Kube, l.Dyn); err != nil {
		t.Fatal(err)
	}
	// A model server that never reports ready, and one killed by its liveness probe while it
	// loads: the probe gives 2 s + 3 x 1 s, the stage kills at 5 s.
	livingISVC(t, l, ns, "notready", 91, isvcSpec{PredictorStage: "never-ready", Limits: small})
	livingISVC(t, l, ns, "slowloader", 92, isvcSpec{PredictorStage: "liveness-killed", Limits: small,
		PredictorAnnotations: map[string]string{"hopsdeploy.test/kill-after": "5s"},
		LivenessProbe:        map[string]any{"httpGet": map[string]any{"path": "/v1/models/slowloader", "port": int64(8080)}, "initialDelaySeconds": int64(2), "periodSeconds": int64(1), "failureThreshold": int64(3)}})

	for _, tc := range []struct {
		ns, name string
		says     []string
	}{
		{quotaNS, "quota", []string{"the project's ResourceQuota hopsworks-quota is used up (requested limits.cpu=", "limited to limits.cpu=6", "kubectl describe resourcequota hopsworks-quota"}},
		{limitsNS, "limited", []string{"a LimitRange of the project says maximum cpu usage per Container is 2, but limit is 4", "kubectl describe limitrange"}},
		{ns, "picky", []string{"Status:     Failed", "no node has the labels its nodeSelector hopsworks.ai/gpu-type=a100 asks for",
			"node kwok-node-1: labels do not match the pod's nodeSelector hopsworks.ai/gpu-type=a100"}},
		{ns, "tainted", []string{"Status:     Failed", "carry the taint hopsworks.ai/dedicated=inference:NoSchedule, which it does not tolerate",
			"node kwok-inference-1: taint hopsworks.ai/dedicated=inference:NoSchedule not tolerated"}},
		{ns, "nopvc", []string{"the PersistentVolumeClaim models-cache that it mounts does not exist", "kubectl get pvc"}},
		{ns, "nocfg", []string{"the ConfigMap feature-config that it mounts does not exist", "FailedMount"}},
		{ns, "quitter", []string{"ends by itself (exit 0, Completed) and is restarted"}},
		{ns, "bigzip", []string{"storage-initializer is OOM-killed while it downloads or unpacks the model"}},
		{ns, "stranded", []string{"Status:     Running"}},
		{ns, "stuck", []string{"The rollout of stuck passed its progress deadline", "Progressing=False (ProgressDeadlineExceeded)", "deployment/python-server-93"}},
		{ns, "notready", []string{"runs but fails its readiness probe", "Readiness probe failed: HTTP probe failed with statuscode: 503"}},
		{ns, "slowloader", []string{"is killed by its liveness probe (exit 137, SIGKILL, not OOMKilled)", "the probe gives up after about 5s"}},
		{ns, "refused", []string{"KServe cannot reconcile the InferenceService: fails to reconcile predictor", "must be less than or equal to memory limit of 1Gi"}},
	} {
		awaitStatus(t, env, 90*time.Second, tc.ns, tc.name, tc.says...)
	}

	// A crash loop reads the same at every instant of it: waiting in back-off, running for a
	// moment, terminated. Sampled over a few rounds of the loop (the counts aside).
	counts, digits := regexp.MustCompile(`\b(once|twice|[0-9]+ times)\b`), regexp.MustCompile(`[0-9]+`)
	var first string
	for i := range 8 {
		out := pluginEnv(t, env, "why", "quitter", "-n", ns).out
		step, cause := section(out, "STEP THAT FAILS:"), section(out, "CAUSE")
		reading := digits.ReplaceAllString(counts.ReplaceAllString(step+" | "+cause, "N times"), "N")
		if i == 0 {
			first = reading
		} else if reading != first {
			t.Errorf("the crash loop reads differently at another instant:\n%s\nthen\n%s", first, reading)
		}
		time.Sleep(700 * time.Millisecond)
	}

	// The anatomy of its start names the probe as what kills the load.
	contains(t, "why slowloader", pluginEnv(t, env, "why", "slowloader", "-n", ns).out, "COLD START", "the probe kills a model load still running")

	// What will not change without someone ends a wait for ready at once, with its cause:
	// exit 16, or 4 where Hopsworks itself says Failed (an unschedulable pod).
	for _, tc := range []struct {
		ns, name string
		code     int
	}{{quotaNS, "quota", 16}, {limitsNS, "limited", 16}, {ns, "picky", 4}, {ns, "nopvc", 4}, {ns, "nocfg", 16}, {ns, "refused", 16}} {
		start := time.Now()
		r := pluginEnv(t, env, "status", tc.name, "-n", tc.ns, "--until", "ready", "--timeout", "60s")
		if r.code != tc.code || time.Since(start) > 20*time.Second {
			t.Errorf("%s: --until ready exit %d after %s, want %d at once\n%s", tc.name, r.code, time.Since(start).Round(time.Second), tc.code, r.err)
		}
	}

	// The inference node's kubelet stops: the node lifecycle controller marks it NotReady
	// and its pod not ready, then evicts the pod once its toleration runs out.
	if err := l.StopNode(ctx, "kwok-inference-1"); err != nil {
		t.Fatal(err)
	}
	// The last heartbeat may be 45 s old, then the grace period is 40 s.
	r := awaitStatus(t, env, 150*time.Second, ns, "stranded", "stopped reporting (NotReady)")
	contains(t, "stranded", r.out, "kwok-inference-1")
}

// section is the line after a heading of why's output (or the rest of the heading's line).
func section(out, heading string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, heading); ok {
			if strings.TrimSpace(rest) != "" || i+1 >= len(lines) {
				return strings.TrimSpace(rest)
			}
			return strings.TrimSpace(lines[i+1])
		}
	}
	return ""
}
