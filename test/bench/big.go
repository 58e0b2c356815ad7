package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// The benchmarks that users of big clusters need: list -A over many deployments, and the
// status of one deployment with many pods and events.

// parallel runs fn for 0..n-1 on 16 workers and returns the first error.
func parallel(n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// createServing creates one KServe deployment (its InferenceService with a Ready status) and
// its running pods, as the gatherer would find them.
func createServing(ctx context.Context, kc kubernetes.Interface, dc dynamic.Interface, s fixtures.Serving, pods int) error {
	u := s.ISVC()
	ri := dc.Resource(fixtures.ISVCResource).Namespace(s.Namespace)
	created, err := ri.Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	created.Object["status"] = fixtures.ISVCStatus{Ready: "True"}.Object(s.Name, s.Namespace)
	if _, err := ri.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return err
	}
	for p := range pods {
		if err := fixtures.CreatePod(ctx, kc, s.Pod(fixtures.PodSpec{Component: "predictor", Suffix: fmt.Sprintf("p%04d", p)})); err != nil {
			return err
		}
	}
	return nil
}

// The list benchmark's cluster: 2,000 deployments in 200 namespaces (10 each) with 5 pods
// each by default; more pods a deployment show what grows with pods, more deployments what
// grows with them.
var (
	listPodsEach    = flag.Int("list-pods", 5, "list: pods of each deployment")
	listDeployments = flag.Int("list-deployments", 2000, "list: deployments, 10 a namespace")
)

// benchList lists -list-deployments deployments (2,000 in 200 namespaces by default) with their pods.
func benchList() error {
	kc, dc, err := clients()
	if err != nil {
		return err
	}
	ctx := context.Background()
	const perNS = 10
	namespaces := max(1, *listDeployments/perNS)
	podsEach := *listPodsEach
	last := fmt.Sprintf("bench-list-%03d", namespaces-1)
	if _, err := kc.CoreV1().Namespaces().Get(ctx, last, metav1.GetOptions{}); err != nil {
		err := parallel(namespaces*perNS, func(i int) error {
			ns := fmt.Sprintf("bench-list-%03d", i/perNS)
			if i%perNS == 0 {
				if err := fixtures.EnsureNamespace(ctx, kc, ns, nil); err != nil {
					return err
				}
			} else {
				for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
					if _, err := kc.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil || time.Now().After(deadline) {
						break
					}
				}
			}
			return createServing(ctx, kc, dc, fixtures.Serving{Name: fmt.Sprintf("model%02d", i%perNS), Namespace: ns, ID: 5000 + i}, podsEach)
		})
		if err != nil {
			return err
		}
	}
	isvcPods := "kubectl get isvc,pods -A"
	jobs := []job{
		{name: "kubectl get isvc -A", cmds: [][]string{{kubectl(), "get", "isvc", "-A"}}, check: rowsWith(namespaces*perNS, "bench-list-", last)},
		{name: isvcPods, cmds: [][]string{{kubectl(), "get", "isvc,pods", "-A"}}, check: outputHas(0, last, "model09-predictor-")},
		{name: "floor: the plugin's reads, nothing decoded, in-process", fn: listFloor},
		{name: "kubectl hopsdeploy list -A", cmds: [][]string{{*plugin, "list", "-A"}}, check: rowsWith(namespaces*perNS, "bench-list-", last),
			goal: &goal{Against: isvcPods, Wall: 1.0, MemOf: isvcPods}},
	}
	return measure(fmt.Sprintf("list -A over %d deployments in %d namespaces, %d pods", namespaces*perNS, namespaces, namespaces*perNS*podsEach), jobs, nil)
}

// benchStatusBig is the status of one deployment with 100 pods and 1,000 events.
func benchStatusBig() error {
	kc, dc, err := clients()
	if err != nil {
		return err
	}
	ctx := context.Background()
	ns := "bench-big"
	s := fixtures.Serving{Name: "big", Namespace: ns, ID: 9100}
	if _, err := kc.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		if err := fixtures.EnsureNamespace(ctx, kc, ns, nil); err != nil {
			return err
		}
		if err := createServing(ctx, kc, dc, s, 0); err != nil {
			return err
		}
		if err := parallel(100, func(p int) error {
			return fixtures.CreatePod(ctx, kc, s.Pod(fixtures.PodSpec{Component: "predictor", Suffix: fmt.Sprintf("p%04d", p)}))
		}); err != nil {
			return err
		}
		if err := parallel(1000, func(i int) error {
			pod := s.PodName("predictor", fmt.Sprintf("p%04d", i%100))
			ev := fixtures.Event(ns, "Pod", pod, corev1.EventTypeWarning, "Unhealthy", fmt.Sprintf("Readiness probe failed: HTTP probe failed with statuscode: 503 (%d)", i), 1, time.Now().Add(-time.Minute), "spec.containers{kserve-container}")
			_, err := kc.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{})
			return err
		}); err != nil {
			return err
		}
	}
	peer := "kubectl get isvc,pods,events -l"
	last := s.PodName("predictor", "p0099") // the last pod: each tool printed every one
	jobs := []job{
		{name: peer, cmds: [][]string{{kubectl(), "get", "isvc,pods,events", "-n", ns, "-l", "serving.hops.works/name=big"}}, check: outputHas(0, "pod/"+last)},
		{name: "kubectl hopsdeploy status", cmds: [][]string{{*plugin, "status", "big", "-n", ns}}, check: outputHas(0, "Status:", last), goal: &goal{Against: peer, Wall: 1.0}},
	}
	return measure("Status of a deployment with 100 pods and 1,000 events", jobs, nil)
}

// benchStatusCrowd is the status of one deployment in a project of 1,000 deployments (one pod
// each) and 20,000 events (6,000 warnings): what status reads must grow with the deployment,
// not with the project.
func benchStatusCrowd() error {
	kc, dc, err := clients()
	if err != nil {
		return err
	}
	ctx := context.Background()
	ns := "bench-crowd"
	const deployments, eventsEach = 1000, 20
	if _, err := kc.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		if err := fixtures.EnsureNamespace(ctx, kc, ns, nil); err != nil {
			return err
		}
		if err := apply(ctx, fixtures.PredictorCrashLoop(ns, "churn")); err != nil {
			return err
		}
		if err := parallel(deployments, func(i int) error {
			s := fixtures.Serving{Name: fmt.Sprintf("model%04d", i), Namespace: ns, ID: 20000 + i}
			if err := createServing(ctx, kc, dc, s, 1); err != nil {
				return err
			}
			pod := s.PodName("predictor", "p0000")
			for j := range eventsEach {
				typ, reason, msg := corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Container image \"docker.hops.works/python-env:4.2\" already present on machine (%d)", j)
				if j < 6 {
					typ, reason, msg = corev1.EventTypeWarning, "Unhealthy", fmt.Sprintf("Readiness probe failed: HTTP probe failed with statuscode: 503 (%d)", j)
				}
				ev := fixtures.Event(ns, "Pod", pod, typ, reason, msg, 1, time.Now().Add(-time.Minute), "spec.containers{kserve-container}")
				if _, err := kc.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	describe := "kubectl describe pods -l (the pod and its events)"
	kubeconfig := filepath.Join(*dir, "kubeconfig")
	process := "floor: the same API calls, a process of its own"
	jobs := []job{
		{name: "kubectl get isvc,pods,events -l", cmds: [][]string{{kubectl(), "get", "isvc,pods,events", "-n", ns, "-l", "serving.hops.works/name=churn"}}, check: getChecked},
		{name: describe, cmds: [][]string{{kubectl(), "describe", "pods", "-n", ns, "-l", "serving.hops.works/name=churn"}}, check: outputHas(0, "churn-predictor-", "BackOff")},
		{name: "floor: the same API calls in-process", fn: statusFloor(kubeconfig, ns, "churn")},
		// What a process adds to the calls (its start, a connection and a heap as new as a
		// command's: 40 to 100 ms here) the plugin pays too: its goal is the process's wall.
		{name: process, cmds: [][]string{{*statusFloorP, kubeconfig, ns, "churn"}}, check: outputHas(0, "ok\n")},
		// Every list of events is a pass over the namespace's in etcd (no watch cache keeps
		// them), whoever asks: the plugin's goal is its floor's wall, and a memory that stays
		// near a small namespace's (40 MiB), not the project's warnings.
		{name: "kubectl hopsdeploy status (with diagnosis and log lines)", cmds: [][]string{{*plugin, "status", "churn", "-n", ns}},
			check: outputHas(0, "Status:     Failed", "Condition:  STARTED false", "ModuleNotFoundError", "BackOff"),
			goal:  &goal{Against: process, Wall: 1.1, MemMiB: 50}},
	}
	return measure(fmt.Sprintf("Status of one deployment in a namespace of %d deployments and %d events", deployments+1, deployments*eventsEach), jobs, nil)
}
