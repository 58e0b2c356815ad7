package logs

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A kubelet that reports no container IDs: each instance gets one from its start time, the
// same while it runs and after it ended, and another for the next instance.
func TestContainerIDWithoutReportedIDs(t *testing.T) {
	first := metav1.NewTime(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	second := metav1.NewTime(first.Add(time.Minute))
	running := corev1.ContainerStatus{Name: "kserve-container", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: first}}}
	ended := corev1.ContainerStatus{Name: "kserve-container", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{StartedAt: first, ExitCode: 1}}}
	waiting := corev1.ContainerStatus{Name: "kserve-container", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{StartedAt: first, ExitCode: 1}}}
	next := corev1.ContainerStatus{Name: "kserve-container", RestartCount: 1, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: second}}}
	a, b, c, d := ContainerID(running), ContainerID(ended), ContainerID(waiting), ContainerID(next)
	if a == "" || a != b || b != c || d == "" || d == a {
		t.Errorf("ids: running %q, ended %q, waiting %q, next instance %q", a, b, c, d)
	}
	if ContainerID(corev1.ContainerStatus{Name: "x", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{}}}) != "" {
		t.Error("a container that never started has no id")
	}
	running.ContainerID = "containerd://abc"
	if ContainerID(running) != "containerd://abc" {
		t.Error("a reported id is used as it is")
	}
}
