package diagnose

import (
	"fmt"
	"strings"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
)

// StepState is how far one step of the start sequence got.
type StepState string

const (
	StepPassed     StepState = "passed"
	StepFailed     StepState = "failed"
	StepInProgress StepState = "in progress"
	StepNotReached StepState = "not reached"
)

// Step is one step of the start sequence: scheduled, initialized, started, ready.
type Step struct {
	Name   string    `json:"name"`
	State  StepState `json:"state"`
	Detail string    `json:"detail,omitempty"`
}

// Steps walks the start sequence of the pod that got least far (the one that blocks), as
// Hopsworks' conditions do, and says what each step shows.
func Steps(s *state.Snapshot) (pod string, steps []Step) {
	in := state.FromCluster(s)
	names := []string{"SCHEDULED", "INITIALIZED", "STARTED", "READY"}
	if len(in.Pods) == 0 {
		detail := "no pod exists"
		if state.Derive(in).Status == state.Idle && s.Mode() == state.ModeStandard {
			detail = "no pod while KServe says Ready: Standard mode does not scale to zero (pods being replaced?)"
		} else if state.Derive(in).Status == state.Idle {
			detail = "no pod: scaled to zero, which is not a failure"
		}
		for i, n := range names {
			st := Step{Name: n, State: StepNotReached}
			if i == 0 {
				st.Detail = detail
			}
			steps = append(steps, st)
		}
		return "", steps
	}
	worst, worstAt := -1, len(names)+1
	var worstSteps []Step
	for i := range in.Pods {
		ps := podSteps(&in.Pods[i])
		at := len(ps)
		for j, st := range ps {
			if st.State != StepPassed {
				at = j
				break
			}
		}
		if at < worstAt || (at == worstAt && ps[min(at, len(ps)-1)].State == StepFailed) {
			worst, worstAt, worstSteps = i, at, ps
		}
	}
	return in.Pods[worst].Name, worstSteps
}

func podSteps(p *corev1.Pod) []Step {
	cond := map[corev1.PodConditionType]corev1.PodCondition{}
	for _, c := range p.Status.Conditions {
		cond[c.Type] = c
	}
	var steps []Step
	blocked := false
	add := func(name string, st StepState, detail string) {
		if blocked {
			st, detail = StepNotReached, ""
		}
		steps = append(steps, Step{Name: name, State: st, Detail: detail})
		if st != StepPassed {
			blocked = true
		}
	}
	st, detail := scheduledState(p, cond)
	add("SCHEDULED", st, detail)
	st, detail = initializedState(p, cond)
	add("INITIALIZED", st, detail)
	st, detail = startedState(p)
	add("STARTED", st, detail)
	st, detail = readyState(cond)
	add("READY", st, detail)
	return steps
}

// scheduledState is SCHEDULED: the scheduler placed the pod.
func scheduledState(p *corev1.Pod, cond map[corev1.PodConditionType]corev1.PodCondition) (StepState, string) {
	switch c, ok := cond[corev1.PodScheduled]; {
	case !ok:
		return StepInProgress, "waiting for the scheduler"
	case c.Status == corev1.ConditionTrue:
		return StepPassed, "on node " + p.Spec.NodeName
	case c.Reason == corev1.PodReasonUnschedulable || c.Reason == corev1.PodReasonSchedulerError:
		return StepFailed, c.Reason + ": " + c.Message
	default:
		return StepInProgress, c.Reason
	}
}

// initializedState is INITIALIZED: the init containers (storage-initializer downloads the
// model) ran.
func initializedState(p *corev1.Pod, cond map[corev1.PodConditionType]corev1.PodCondition) (StepState, string) {
	initDetail, initState := "images pulled, model downloaded", StepPassed
	for _, cs := range p.Status.InitContainerStatuses {
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "PodInitializing":
			initState, initDetail = StepFailed, fmt.Sprintf("%s: %s %s", cs.Name, cs.State.Waiting.Reason, lastExit(cs))
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0:
			initState, initDetail = StepFailed, fmt.Sprintf("%s: exit %d (%s)", cs.Name, cs.State.Terminated.ExitCode, cs.State.Terminated.Reason)
		case cs.State.Running != nil:
			initState, initDetail = StepInProgress, cs.Name+" is running (downloading the model)"
		}
		if initState != StepPassed {
			break
		}
	}
	if c, ok := cond[corev1.PodInitialized]; ok && c.Status != corev1.ConditionTrue && initState == StepPassed {
		initState, initDetail = StepInProgress, c.Message
	}
	return initState, initDetail
}

// startedState is STARTED: the main containers run without crashing.
func startedState(p *corev1.Pod) (StepState, string) {
	startState, startDetail := StepPassed, "containers running"
	for _, cs := range p.Status.ContainerStatuses {
		w := cs.State.Waiting
		switch {
		case w != nil && (w.Reason == "CrashLoopBackOff" || strings.Contains(w.Reason, "Err") || strings.Contains(w.Reason, "BackOff") || w.Reason == "CreateContainerConfigError"):
			startState, startDetail = StepFailed, fmt.Sprintf("%s: %s %s", cs.Name, w.Reason, lastExit(cs))
		case w != nil:
			if startState == StepPassed {
				startState, startDetail = StepInProgress, cs.Name+": "+w.Reason
			}
		case cs.State.Terminated != nil && (cs.State.Terminated.ExitCode != 0 || cs.RestartCount >= crashLoopRestarts):
			startState, startDetail = StepFailed, fmt.Sprintf("%s: exit %d (%s)", cs.Name, cs.State.Terminated.ExitCode, cs.State.Terminated.Reason)
		case crashLooping(cs):
			// Between two crashes of a crash loop the container runs for a moment: the step
			// is failed at every instant of the loop, not passed while it happens to run.
			startState, startDetail = StepFailed, fmt.Sprintf("%s: running again, not ready, in a crash loop %s", cs.Name, lastExit(cs))
		}
		if startState == StepFailed {
			break
		}
	}
	return startState, startDetail
}

// readyState is READY: readiness probes pass and connectivity is set up.
func readyState(cond map[corev1.PodConditionType]corev1.PodCondition) (StepState, string) {
	switch c, ok := cond[corev1.PodReady]; {
	case ok && c.Status == corev1.ConditionTrue:
		return StepPassed, "ready"
	case ok && c.Reason == "ReadinessGatesNotReady":
		return StepFailed, "readiness gates: " + c.Message
	case ok:
		return StepInProgress, strings.TrimSpace(c.Reason + " " + c.Message)
	default:
		return StepInProgress, ""
	}
}

// crashLoopRestarts is how many restarts make a running, not ready container whose last
// instance ended one in a crash loop: from the first, as the kubelet's back-off says at the
// same point, so that the reading does not flip between the back-off and the run between two
// crashes (the living test samples it).
const crashLoopRestarts = 1

// crashLooping tells whether a container runs for a moment between crashes: not ready, its
// last instance ended (a model server never ends by itself, even with exit 0), restarted at
// least crashLoopRestarts times.
func crashLooping(cs corev1.ContainerStatus) bool {
	t := cs.LastTerminationState.Terminated
	return cs.State.Running != nil && !cs.Ready && cs.RestartCount >= crashLoopRestarts && t != nil
}

func lastExit(cs corev1.ContainerStatus) string {
	if t := cs.LastTerminationState.Terminated; t != nil {
		return fmt.Sprintf("(last exit %d, %s, %d restarts)", t.ExitCode, t.Reason, cs.RestartCount)
	}
	return ""
}

// Traceback returns the last Python traceback in lines (from "Traceback (most recent call
// last):" to the exception line), or nil.
func Traceback(lines []string) []string {
	start := -1
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "Traceback (most recent call last):") {
			start = i
			break
		}
	}
	if start < 0 {
		return nil
	}
	end := len(lines) - 1
	for i := start + 1; i < len(lines); i++ {
		l := strings.TrimSpace(stripTimestamp(lines[i]))
		if exceptionLine().MatchString(l) {
			end = i
			break
		}
	}
	return lines[start : end+1]
}
