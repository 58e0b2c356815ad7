package inspect

import (
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The source plan, for every --source and window, with and without pods and OpenSearch.
func TestPlanSources(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	podAt := func(ago time.Duration) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now.Add(-ago))}}
	}
	restartedAt := func(p corev1.Pod, ago time.Duration) corev1.Pod {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "kserve-container", RestartCount: 3,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now.Add(-ago))}}}}
		return p
	}
	running := &diagnose.Report{Status: string(state.Running)}
	idle := &diagnose.Report{Status: string(state.Idle)}
	until := now.Add(-time.Hour)
	tests := []struct {
		name    string
		cfg     LogsConfig
		report  *diagnose.Report
		pods    []corev1.Pod
		hist    bool
		want    SourcePlan
		wantWhy string
	}{
		{"live pods, no window", LogsConfig{Source: SourceAuto}, running, []corev1.Pod{podAt(time.Hour)}, true, SourcePlan{Live: true}, ""},
		{"window inside the pods' life", LogsConfig{Source: SourceAuto, Since: 30 * time.Minute}, running, []corev1.Pod{podAt(time.Hour)}, true, SourcePlan{Live: true}, ""},
		{"window older than the pods: history until the newest started, then live", LogsConfig{Source: SourceAuto, Since: 2 * time.Hour}, running,
			[]corev1.Pod{podAt(time.Hour), podAt(90 * time.Minute)}, true,
			SourcePlan{History: true, Live: true, From: now.Add(-2 * time.Hour), Until: now.Add(-time.Hour), LiveFrom: now.Add(-time.Hour)},
			"history before 2026-11-25T11:00:00Z (when the newest container instance started), live after"},
		{"a crash-looping container: history until its current instance started", LogsConfig{Source: SourceAuto, Since: 30 * time.Minute}, running,
			[]corev1.Pod{restartedAt(podAt(time.Hour), 2*time.Minute)}, true,
			SourcePlan{History: true, Live: true, From: now.Add(-30 * time.Minute), Until: now.Add(-2 * time.Minute), LiveFrom: now.Add(-2 * time.Minute)}, "live after"},
		{"a restarted container that is not selected does not count", LogsConfig{Source: SourceAuto, Since: 30 * time.Minute}, running,
			[]corev1.Pod{restartedAt(podAt(time.Hour), 2*time.Minute)}, true, SourcePlan{Live: true}, ""},
		{"window older than the pods, no OpenSearch", LogsConfig{Source: SourceAuto, Since: 2 * time.Hour}, running, []corev1.Pod{podAt(time.Hour)}, false, SourcePlan{Live: true}, ""},
		{"no pods: history", LogsConfig{Source: SourceAuto}, idle, nil, true, SourcePlan{History: true}, "history from OpenSearch: the deployment is Idle"},
		{"no pods, following: history then live", LogsConfig{Source: SourceAuto, Follow: true}, idle, nil, true, SourcePlan{History: true, Live: true}, "history from OpenSearch"},
		{"no pods, no OpenSearch", LogsConfig{Source: SourceAuto}, idle, nil, false, SourcePlan{}, "(set --opensearch-url to read it)"},
		{"--until: history", LogsConfig{Source: SourceAuto, Until: until}, running, []corev1.Pod{podAt(time.Minute)}, true, SourcePlan{History: true, Until: until}, "--until asks for a past window"},
		{"--previous stays live", LogsConfig{Source: SourceAuto, Previous: true}, running, nil, true, SourcePlan{Live: true}, "no pod of it exists yet"},
		{"--source live", LogsConfig{Source: SourceLive, Since: 2 * time.Hour}, running, []corev1.Pod{podAt(time.Hour)}, true, SourcePlan{Live: true}, ""},
		{"--source history", LogsConfig{Source: SourceHistory, SinceTime: now.Add(-3 * time.Hour)}, running, []corev1.Pod{podAt(time.Hour)}, true,
			SourcePlan{History: true, From: now.Add(-3 * time.Hour)}, "history (--source history)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Now = func() time.Time { return now }
			containers := map[string]bool{"kserve-container": true}
			if strings.HasPrefix(tc.name, "a restarted container that is not selected") {
				containers = map[string]bool{"queue-proxy": true}
			}
			got := PlanSources(&tc.cfg, tc.report, tc.pods, containers, tc.hist)
			why := got.Why
			got.Why, tc.want.Why = "", ""
			if got != tc.want {
				t.Errorf("plan %+v, want %+v", got, tc.want)
			}
			if !strings.Contains(why, tc.wantWhy) {
				t.Errorf("why %q, want it to hold %q", why, tc.wantWhy)
			}
		})
	}
}
