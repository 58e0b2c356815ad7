package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
)

// Diagnosis is the most likely root cause in one sentence, its evidence and the next step.
type Diagnosis struct {
	Healthy bool `json:"healthy"`
	// Terminal says the deployment will not get further without a change by someone (an
	// image that does not exist or is refused, a crash loop past a few restarts, a spec KServe
	// cannot serve): a wait for ready ends on it instead of at its timeout.
	Terminal bool     `json:"terminal,omitempty"`
	Cause    string   `json:"cause"`
	Evidence []string `json:"evidence,omitempty"`
	Next     string   `json:"next"`
	// Logs names the container log that backs the diagnosis; the caller fetches its last lines
	// and hands them to AttachLogs.
	Logs *LogExcerpt `json:"logs,omitempty"`
}

// LogExcerpt is the last lines of one container instance.
type LogExcerpt struct {
	Pod       string   `json:"pod"`
	Container string   `json:"container"`
	Previous  bool     `json:"previous"`
	Lines     []string `json:"lines"`
}

type podCtx struct {
	pod       *corev1.Pod
	component string
}

// Diagnose finds the most likely root cause, checking in the order a deployment starts:
// scheduling, image, model download, crash on load (OOM, probes, script errors), readiness,
// then what KServe and Knative report.
func Diagnose(s *state.Snapshot, r *Report) *Diagnosis {
	in := state.FromCluster(s)
	var pods []podCtx
	for i := range in.Pods {
		pods = append(pods, podCtx{&in.Pods[i], state.ComponentOf(&in.Pods[i])})
	}
	name, ns := s.Name, s.Namespace
	logsCmd := func(extra string) string {
		return fmt.Sprintf("kubectl hopsdeploy logs %s -n %s%s", q(name), q(ns), extra)
	}
	for _, rule := range []func() *Diagnosis{
		func() *Diagnosis { return rolloutDeadline(s, r) },
		func() *Diagnosis { return unschedulable(s, pods, r, ns) },
		func() *Diagnosis { return nodeNotReady(pods, r, ns) },
		func() *Diagnosis { return failedMount(pods, r, ns) },
		func() *Diagnosis { return imagePull(pods, r, ns) },
		func() *Diagnosis { return storageInit(pods, logsCmd) },
		func() *Diagnosis { return crashes(pods, r, logsCmd) },
		func() *Diagnosis { return notReady(pods, r, logsCmd) },
		func() *Diagnosis { return failedCreate(s, r, pods) },
	} {
		if d := rule(); d != nil {
			return d
		}
	}
	return byStatus(s, r, in, logsCmd)
}

// rolloutDeadline: a rollout that passed its progress deadline: KServe reports it on the
// InferenceService (Standard mode), the controller-manager on the Deployment (Progressing=False,
// ProgressDeadlineExceeded): KServe's component Deployments, or the DEFAULT tool's.
func rolloutDeadline(s *state.Snapshot, r *Report) *Diagnosis {
	deadline := func(reason, message string) bool {
		return reason == "ProgressDeadlineExceeded" || strings.Contains(message, "ProgressDeadlineExceeded") || strings.Contains(message, "exceeded its progress deadline")
	}
	var evidence, deployment string
	if r.InferenceService != nil {
		for _, c := range r.InferenceService.Conditions {
			if evidence == "" && c.Status == "False" && deadline(c.Reason, c.Message) {
				evidence, deployment = fmt.Sprintf("InferenceService %s=False (%s): %s", c.Type, c.Reason, c.Message), s.Name+"-predictor"
			}
		}
		for _, d := range r.InferenceService.Deployments {
			for _, c := range d.Conditions {
				if evidence == "" && c.Type == "Progressing" && c.Status == "False" && deadline(c.Reason, c.Message) {
					evidence, deployment = fmt.Sprintf("Deployment %s Progressing=False (%s): %s", d.Name, c.Reason, c.Message), d.Name
				}
			}
		}
	}
	if d := s.Deployment; d != nil {
		for _, c := range d.Status.Conditions {
			if c.Type == "Progressing" && c.Status == corev1.ConditionFalse && deadline(c.Reason, c.Message) {
				evidence, deployment = fmt.Sprintf("Deployment %s Progressing=False (%s): %s", d.Name, c.Reason, c.Message), d.Name
			}
		}
	}
	if evidence == "" {
		return nil
	}
	mode := "Standard-mode rollout"
	if s.Deployment != nil {
		mode = "rollout"
	}
	return &Diagnosis{
		Cause:    fmt.Sprintf("The %s of %s passed its progress deadline: the new pods did not become available in time.", mode, s.Name),
		Evidence: []string{evidence},
		Next: fmt.Sprintf("see why the new pods are not available: kubectl hopsdeploy why %s -n %s; the rollout: kubectl rollout status %s -n %s",
			q(s.Name), q(s.Namespace), q("deployment/"+deployment), q(s.Namespace)),
	}
}

func requests(p *corev1.Pod) string {
	var parts []string
	for _, c := range p.Spec.Containers {
		for name, q := range c.Resources.Limits {
			parts = append(parts, fmt.Sprintf("%s=%s", name, q.String()))
		}
	}
	return strings.Join(sortStrings(parts), ", ")
}

func imagePull(pods []podCtx, r *Report, ns string) *Diagnosis {
	for _, p := range pods {
		for _, cs := range state.ContainerStatuses(p.pod) {
			w := cs.State.Waiting
			if w == nil || (w.Reason != "ImagePullBackOff" && w.Reason != "ErrImagePull" && w.Reason != "InvalidImageName" && w.Reason != "ErrImageNeverPull") {
				continue
			}
			image := cs.Image
			d := &Diagnosis{
				Cause:    fmt.Sprintf("The %s's container %s cannot start: its image %s cannot be pulled (%s).", p.component, cs.Name, image, w.Reason),
				Evidence: []string{fmt.Sprintf("pod %s container %s: waiting %s: %s", p.pod.Name, cs.Name, w.Reason, w.Message)},
			}
			ev := eventsFor(r, p.pod.Name, "Failed", "ErrImagePull", "BackOff")
			d.Evidence = append(d.Evidence, ev...)
			joined := strings.Join(ev, " ")
			switch {
			case strings.Contains(joined, "401") || strings.Contains(joined, "403") || strings.Contains(joined, "nauthorized") || strings.Contains(joined, "denied"):
				if len(p.pod.Spec.ImagePullSecrets) == 0 {
					d.Cause += " The registry refuses anonymous pulls and the pod has no imagePullSecrets: the pull secret is missing."
					d.Evidence = append(d.Evidence, fmt.Sprintf("pod %s has no spec.imagePullSecrets (nor does its service account's, as far as the pod shows)", p.pod.Name))
				} else {
					d.Cause += " The registry refuses the credentials: the pull secret is wrong or expired."
				}
				d.Next = fmt.Sprintf("check the pod's pull secrets: kubectl get pod %s -n %s -o jsonpath='{.spec.imagePullSecrets}' and the secret's registry", q(p.pod.Name), q(ns))
				d.Terminal = true
			case strings.Contains(joined, "not found") || strings.Contains(joined, "manifest unknown") || w.Reason == "InvalidImageName":
				d.Cause += " The image or tag does not exist."
				d.Next = "check the image name and tag of the deployment's environment in Hopsworks"
				d.Terminal = true
			default:
				d.Next = fmt.Sprintf("see the pull errors: kubectl describe pod %s -n %s", q(p.pod.Name), q(ns))
			}
			return d
		}
	}
	return nil
}

func storageInit(pods []podCtx, logsCmd func(string) string) *Diagnosis {
	for _, p := range pods {
		for _, cs := range p.pod.Status.InitContainerStatuses {
			if cs.Name != state.ContainerStorage {
				continue
			}
			var t *corev1.ContainerStateTerminated
			previous := false
			switch {
			case cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0:
				t = cs.State.Terminated
			case cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.ExitCode != 0:
				// Also while a retry runs: a crash loop spends part of each round running, and
				// the failure it repeats is the previous instance's.
				t, previous = cs.LastTerminationState.Terminated, true
			}
			if t == nil {
				continue
			}
			d := &Diagnosis{
				Cause:    fmt.Sprintf("The %s's storage-initializer cannot download the model (exit code %d, restarted %s%s).", p.component, t.ExitCode, times(cs.RestartCount), retrying(cs)),
				Terminal: cs.RestartCount >= terminalRestarts,
				Evidence: []string{fmt.Sprintf("pod %s init container storage-initializer: %s, last exit %d (%s)",
					p.pod.Name, stateWord(cs), t.ExitCode, t.Reason)},
				Next: logsCmd(" --container storage-initializer" + prevFlag(previous)),
				Logs: &LogExcerpt{Pod: p.pod.Name, Container: cs.Name, Previous: previous},
			}
			if t.Reason == "OOMKilled" {
				// KServe gives the storage-initializer its own memory limit (1Gi by default,
				// inferenceservice-config's storageInitializer.memoryLimit): a large artifact
				// unpacked in memory passes it, whatever the predictor's resources.
				limit := "KServe's storage-initializer memory limit"
				if spec := initContainerSpec(p.pod, cs.Name); spec != nil {
					if m, ok := spec.Resources.Limits[corev1.ResourceMemory]; ok {
						limit += " of " + m.String()
					}
				}
				d.Cause = fmt.Sprintf("The %s's storage-initializer is OOM-killed while it downloads or unpacks the model: the artifact needs more than %s (restarted %s%s).", p.component, limit, times(cs.RestartCount), retrying(cs))
				d.Next = "raise storageInitializer.memoryLimit in KServe's inferenceservice-config ConfigMap (kubectl -n kserve edit configmap inferenceservice-config; a cluster administrator's change), or make the model artifact smaller; " + logsCmd(" --container storage-initializer"+prevFlag(previous)) + " shows how far it got"
			}
			return d
		}
	}
	return nil
}

func crashes(pods []podCtx, r *Report, logsCmd func(string) string) *Diagnosis {
	for _, p := range pods {
		for i, cs := range p.pod.Status.ContainerStatuses {
			t := cs.LastTerminationState.Terminated
			previous := true
			if cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0 {
				t, previous = cs.State.Terminated, false
			}
			crashLoop := cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" || crashLooping(cs) ||
				cs.State.Terminated != nil && cs.RestartCount >= crashLoopRestarts
			if cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0 && crashLoop {
				t, previous = cs.State.Terminated, false // it ended again, with exit 0
			}
			// A model server that ends with exit 0 (Completed) and is restarted loops too.
			if t == nil || (t.ExitCode == 0 && !crashLoop) || (!crashLoop && cs.Ready) {
				continue
			}
			spec := containerSpec(p.pod, cs.Name)
			d := &Diagnosis{
				Evidence: []string{fmt.Sprintf("pod %s container %s: %s, restarted %s, last exit %d (%s) %s",
					p.pod.Name, cs.Name, stateWord(cs), times(cs.RestartCount), t.ExitCode, t.Reason, ago(t))},
				Logs: &LogExcerpt{Pod: p.pod.Name, Container: cs.Name, Previous: previous},
				Next: logsCmd(fmt.Sprintf(" -c %s --container %s%s", q(p.component), q(cs.Name), prevFlag(previous))),
			}
			switch {
			case t.ExitCode == 0:
				d.Cause = fmt.Sprintf("The %s's %s ends by itself (exit 0, %s) and is restarted, %s: its script returns instead of serving (a model server that does not block, or a predictor that never starts one).", p.component, cs.Name, orDefault(t.Reason, "Completed"), times(cs.RestartCount))
				d.Next = logsCmd(fmt.Sprintf(" -c %s --container %s --previous", q(p.component), q(cs.Name))) + " shows its last words; the script must start the model server and keep it running"
			case t.Reason == "OOMKilled":
				limit := "no memory limit"
				if spec != nil {
					if q, ok := spec.Resources.Limits[corev1.ResourceMemory]; ok {
						limit = "its memory limit of " + q.String()
					}
				}
				d.Cause = fmt.Sprintf("The %s's %s was OOM-killed: loading or serving the model needs more than %s.", p.component, cs.Name, limit)
				d.Next = fmt.Sprintf("raise the %s's memory in the deployment's resources in Hopsworks (or load a smaller model); then watch it start: kubectl hopsdeploy status %s -n %s --watch", p.component, q(r.Name), q(r.Namespace))
			case t.ExitCode == 137 && spec != nil && spec.LivenessProbe != nil:
				pr := spec.LivenessProbe
				budget := pr.InitialDelaySeconds + pr.FailureThreshold*max(pr.PeriodSeconds, 1)
				d.Cause = fmt.Sprintf("The %s's %s is killed by its liveness probe (exit 137, SIGKILL, not OOMKilled): the probe gives up after about %ds, before the model has loaded.", p.component, cs.Name, budget)
				d.Evidence = append(d.Evidence, fmt.Sprintf("liveness probe budget: initialDelaySeconds %d + failureThreshold %d x periodSeconds %d = %ds",
					pr.InitialDelaySeconds, pr.FailureThreshold, max(pr.PeriodSeconds, 1), budget))
				if !t.StartedAt.IsZero() && !t.FinishedAt.IsZero() {
					d.Evidence = append(d.Evidence, fmt.Sprintf("the last instance ran %s before it was killed (started %s, killed %s)",
						t.FinishedAt.Sub(t.StartedAt.Time).Round(time.Second), t.StartedAt.UTC().Format("15:04:05Z"), t.FinishedAt.UTC().Format("15:04:05Z")))
				}
				d.Evidence = append(d.Evidence, eventsFor(r, p.pod.Name, "Unhealthy", "Killing")...)
				d.Next = "give the model time to load: raise the probe's initialDelaySeconds or add a startupProbe to the predictor; " + logsCmd(" --previous") + " shows how far loading got"
			default:
				d.Cause = fmt.Sprintf("The %s's %s crashes on start (exit code %d, %s) and is restarted again and again.", p.component, cs.Name, t.ExitCode, orDefault(t.Reason, "Error"))
				if i == 0 && cs.Name == state.ContainerMain {
					d.Cause = fmt.Sprintf("The %s's %s script or model server crashes on start (exit code %d, %s), restarted %s.", p.component, cs.Name, t.ExitCode, orDefault(t.Reason, "Error"), times(cs.RestartCount))
				}
			}
			d.Evidence = append(d.Evidence, eventsFor(r, p.pod.Name, "BackOff")...)
			// Past a few restarts, each the same failure, the loop will not end by itself.
			d.Terminal = cs.RestartCount >= terminalRestarts
			return d
		}
	}
	return nil
}

// terminalRestarts is how many restarts of a failing container make a wait for ready give up.
const terminalRestarts = 3

func notReady(pods []podCtx, r *Report, logsCmd func(string) string) *Diagnosis {
	for _, p := range pods {
		for _, c := range p.pod.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue && c.Reason == "ReadinessGatesNotReady" {
				return &Diagnosis{
					Cause:    fmt.Sprintf("The %s's containers run but its readiness gates are not ready: connectivity (Knative/Istio) is not set up.", p.component),
					Evidence: []string{fmt.Sprintf("pod %s: Ready=False (ReadinessGatesNotReady): %s", p.pod.Name, c.Message)},
					Next:     logsCmd(" --container queue-proxy"),
				}
			}
		}
		ev := eventsFor(r, p.pod.Name, "Unhealthy")
		for _, cs := range p.pod.Status.ContainerStatuses {
			if cs.State.Running != nil && !cs.Ready && len(ev) > 0 && strings.Contains(strings.Join(ev, " "), "Readiness probe failed") {
				return &Diagnosis{
					Cause:    fmt.Sprintf("The %s's %s runs but fails its readiness probe: the model server does not report the model as ready.", p.component, cs.Name),
					Evidence: append([]string{fmt.Sprintf("pod %s container %s: running, not ready", p.pod.Name, cs.Name)}, ev...),
					Next:     logsCmd(fmt.Sprintf(" -c %s --container %s -f", q(p.component), q(cs.Name))),
					Logs:     &LogExcerpt{Pod: p.pod.Name, Container: cs.Name},
				}
			}
		}
	}
	return nil
}

// byStatus explains the states that are not failures of a pod.
func byStatus(s *state.Snapshot, r *Report, in state.Input, logsCmd func(string) string) *Diagnosis {
	switch state.Status(r.Status) {
	case state.Running:
		return &Diagnosis{Healthy: true, Cause: "The deployment is running and ready.", Next: logsCmd(" -f")}
	case state.Idle:
		return whyIdle(s, in, logsCmd)
	case state.Stopping:
		return whyStopping(s, in)
	case state.Stopped:
		if in.ISVC != nil && in.ISVC.StopRequested {
			return &Diagnosis{Healthy: true, Cause: "Stopped through KServe's stop annotation: the InferenceService is kept, nothing of it runs.",
				Evidence: []string{state.AnnotKServeStop + ": true"}, Next: logsCmd(" --source history")}
		}
		return &Diagnosis{Healthy: true, Cause: "Stopped: nothing of it runs in the cluster.", Next: logsCmd(" --source history")}
	}
	// KServe's own words first: a spec it refuses (no runtime for the model format, a runtime
	// disabled or not known) says so in the model status and its events, with no pod to read.
	if d := kserveRefuses(s, r); d != nil {
		return d
	}
	if in.ISVC != nil && (!in.ISVC.HasStatus || !in.ISVC.HasConditions) {
		// The controller's own words, when it said any: what it could not do.
		if d := kserveCannotReconcile(s, r); d != nil {
			return d
		}
		return &Diagnosis{Cause: "KServe has not reconciled the InferenceService yet: it has no status.",
			Next: "check that the KServe controller runs: kubectl get pods -n kserve"}
	}
	if d := revisionFailed(s, logsCmd); d != nil {
		return d
	}
	if r.InferenceService != nil && len(in.Pods) > 0 {
		if d := routeOrRevision(s, r.InferenceService.Conditions); d != nil {
			return d
		}
	}
	step := map[state.ConditionType]string{
		state.TypeScheduled: "waiting for its pods to be scheduled", state.TypeInitialized: "initializing (pulling images, downloading the model)",
		state.TypeStarted: "starting the model server", state.TypeReady: "setting up connectivity", state.TypeStopped: "being prepared",
	}[r.Condition.Type]
	return &Diagnosis{Cause: fmt.Sprintf("%s: %s; no failure so far.", r.Status, step),
		Evidence: []string{fmt.Sprintf("condition %s: %s", r.Condition.Type, r.Condition.Reason)},
		Next:     fmt.Sprintf("watch the start sequence: kubectl hopsdeploy status %s -n %s --watch --until ready", q(s.Name), q(s.Namespace))}
}

// whyIdle explains Idle: Knative's scale to zero, or, in Standard mode (no Knative), pods that
// are being replaced or were removed.
func whyIdle(s *state.Snapshot, in state.Input, logsCmd func(string) string) *Diagnosis {
	if s.Mode() != state.ModeStandard {
		return &Diagnosis{Healthy: true,
			Cause:    "Scaled to zero by Knative: no pod runs until a request arrives. This is not a failure; the first prediction waits for a cold start.",
			Evidence: append([]string{"InferenceService Ready=True with no pods"}, idleEvidence(s)...),
			Next:     logsCmd(" --source history") + " (the pods are gone; their logs are in OpenSearch)"}
	}
	// Hopsworks reads "Ready with no pods" as Knative's scale to zero; Standard mode
	// has no Knative: the pods are being replaced, or were removed.
	count := map[string]int{}
	for i := range in.Pods {
		count[state.ComponentOf(&in.Pods[i])]++
	}
	missing := "predictor"
	if count["predictor"] > 0 {
		missing = "transformer"
	}
	return &Diagnosis{
		Cause: fmt.Sprintf("Hopsworks says Idle because KServe says Ready while the %s has no pod, but KServe Standard mode does not scale to zero: its pods are being replaced (a rollout re-creating them) or were removed.", missing),
		Evidence: []string{fmt.Sprintf("InferenceService Ready=True; pods: %d predictor, %d transformer", count["predictor"], count["transformer"]),
			"deployment mode Standard (RawDeployment): no Knative, no scale to zero"},
		Next: fmt.Sprintf("watch it: kubectl hopsdeploy status %s -n %s --watch; if no pod comes back: kubectl get deploy,rs -n %s -l serving.kserve.io/inferenceservice=%s", q(s.Name), q(s.Namespace), q(s.Namespace), q(s.Name))}
}

// allTerminating tells whether every pod is being deleted (its grace period running).
func allTerminating(pods []corev1.Pod) bool {
	for i := range pods {
		if pods[i].DeletionTimestamp == nil {
			return false
		}
	}
	return len(pods) > 0
}

// whyStopping explains Stopping: pods left behind by a deleted InferenceService, KServe's stop
// annotation, or an InferenceService being deleted.
func whyStopping(s *state.Snapshot, in state.Input) *Diagnosis {
	if s.ISVC == nil && allTerminating(in.Pods) {
		return &Diagnosis{Healthy: true, Cause: fmt.Sprintf("Being stopped: the InferenceService is gone and its %d pod(s) are terminating; they end within their grace period.", len(in.Pods)),
			Evidence: podNames(in.Pods),
			Next:     fmt.Sprintf("wait for it: kubectl hopsdeploy status %s -n %s --watch --until stopped", q(s.Name), q(s.Namespace))}
	}
	if s.ISVC == nil {
		return &Diagnosis{Cause: fmt.Sprintf("Stopped in Hopsworks, but %d pod(s) are left behind: the InferenceService is gone and nothing will remove them.", len(in.Pods)),
			Evidence: podNames(in.Pods),
			Next:     fmt.Sprintf("if they stay, delete them: kubectl delete pod -n %s -l %s=%s", q(s.Namespace), state.LabelName, q(s.Name))}
	}
	wait := fmt.Sprintf("wait for it: kubectl hopsdeploy status %s -n %s --watch --until stopped", q(s.Name), q(s.Namespace))
	if in.ISVC != nil && in.ISVC.StopRequested {
		return &Diagnosis{Cause: fmt.Sprintf("Being stopped through KServe's stop annotation: the controller removes its objects and %d pod(s) still run.", len(in.Pods)),
			Evidence: append([]string{state.AnnotKServeStop + ": true"}, podNames(in.Pods)...), Next: wait}
	}
	return &Diagnosis{Cause: fmt.Sprintf("Being stopped: the InferenceService is being deleted and %d pod(s) still run.", len(in.Pods)),
		Evidence: append([]string{"InferenceService has a deletionTimestamp (finalizers: " + strings.Join(s.ISVC.GetFinalizers(), ", ") + ")"}, podNames(in.Pods)...),
		Next:     wait}
}

// routeOrRevision explains running pods that KServe does not route to: a route or ingress, or
// the latest Knative revision, that is not ready.
func routeOrRevision(s *state.Snapshot, conds []state.ISVCCondition) *Diagnosis {
	for _, c := range conds {
		if c.Status != "False" {
			continue
		}
		evidence := []string{fmt.Sprintf("InferenceService %s=False (%s): %s", c.Type, c.Reason, c.Message)}
		switch c.Type {
		case "IngressReady", "RoutesReady", "PredictorRouteReady", "TransformerRouteReady":
			if strings.HasSuffix(c.Reason, "ingress not created") {
				// KServe waits for the predictor (and transformer) to be ready before it
				// creates the ingress: a consequence, whose cause is the component's.
				continue
			}
			if s.Mode() == state.ModeStandard {
				return &Diagnosis{Cause: "The pods run but KServe's ingress is not ready: " + c.Type + " is False, so requests cannot reach the model.",
					Evidence: evidence, Next: fmt.Sprintf("check the Ingress and its class: kubectl get ingress -n %s %s -o wide", q(s.Namespace), q(s.Name))}
			}
			return &Diagnosis{Cause: "The pods run but the Knative route is not ready: " + c.Type + " is False, so requests cannot reach the model.",
				Evidence: evidence, Next: fmt.Sprintf("check the Knative route and ingress: kubectl get ksvc,route,ingresses.networking.internal.knative.dev -n %s | grep %s", q(s.Namespace), q(s.Name))}
		case "PredictorConfigurationReady", "TransformerConfigurationReady", "LatestDeploymentReady":
			return &Diagnosis{Cause: "The latest Knative revision is not ready: " + c.Type + " is False.",
				Evidence: evidence, Next: fmt.Sprintf("check the revisions: kubectl get revisions -n %s -l serving.kserve.io/inferenceservice=%s", q(s.Namespace), q(s.Name))}
		}
	}
	return nil
}

// AttachLogs adds the fetched log lines to the diagnosis and, where they tell more than the
// container state, sharpens the cause (a Python exception, a download error).
func (d *Diagnosis) AttachLogs(lines []string) {
	if d == nil || d.Logs == nil {
		return
	}
	d.Logs.Lines = lines
	last := lastException(lines)
	if last == "" {
		return
	}
	d.Evidence = append(d.Evidence, "last error in the log: "+last)
	if d.Logs.Container == state.ContainerStorage {
		switch low := strings.ToLower(last); {
		case strings.Contains(low, "does not exist") || strings.Contains(low, "not found") || strings.Contains(low, "no such file"):
			d.Cause += " The model's path does not exist: " + last
		case strings.Contains(low, "permission") || strings.Contains(low, "denied") || strings.Contains(low, "401") || strings.Contains(low, "403") || strings.Contains(low, "credential") || strings.Contains(low, "unauthorized"):
			d.Cause += " It is refused access (credentials): " + last
		case strings.Contains(low, "no space left"):
			d.Cause += " The disk is full: " + last
		default:
			d.Cause += " " + last
		}
		return
	}
	if !strings.Contains(d.Cause, "OOM") && !strings.Contains(d.Cause, "liveness") {
		d.Cause += " " + last
	}
}

var exceptionLine = lazyRegexp(`^([A-Za-z_][A-Za-z0-9_.]*(Error|Exception|Exit|Interrupt)|Killed|panic|fatal|FATAL|ERROR)\b.*`)

// lastException finds the last exception line of a Python traceback (or an error line).
func lastException(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(stripTimestamp(lines[i]))
		if exceptionLine().MatchString(l) {
			return l
		}
	}
	return ""
}

func stripTimestamp(l string) string {
	if i := strings.IndexByte(l, ' '); i > 20 && i < 40 && l[4] == '-' && strings.Contains(l[:i], "T") {
		return l[i+1:]
	}
	return l
}

func eventsFor(r *Report, object string, reasons ...string) []string {
	var out []string
	for _, e := range r.eventsOf(object) {
		for _, reason := range reasons {
			if e.Reason == reason {
				out = append(out, fmt.Sprintf("event %s x%d: %s", e.Reason, e.Count, e.Message))
			}
		}
	}
	return out
}

func initContainerSpec(p *corev1.Pod, name string) *corev1.Container {
	for i := range p.Spec.InitContainers {
		if p.Spec.InitContainers[i].Name == name {
			return &p.Spec.InitContainers[i]
		}
	}
	return nil
}

func containerSpec(p *corev1.Pod, name string) *corev1.Container {
	for i := range p.Spec.Containers {
		if p.Spec.Containers[i].Name == name {
			return &p.Spec.Containers[i]
		}
	}
	return nil
}

// retrying says that a container which failed before is running again.
func retrying(cs corev1.ContainerStatus) string {
	if cs.State.Running != nil {
		return "; retrying now"
	}
	return ""
}

func stateWord(cs corev1.ContainerStatus) string {
	switch {
	case cs.State.Waiting != nil:
		return "waiting " + cs.State.Waiting.Reason
	case cs.State.Running != nil:
		return "running"
	case cs.State.Terminated != nil:
		return "terminated " + cs.State.Terminated.Reason
	}
	return "unknown"
}

func ago(t *corev1.ContainerStateTerminated) string {
	if t.FinishedAt.IsZero() {
		return ""
	}
	return "at " + t.FinishedAt.UTC().Format("15:04:05Z")
}

func prevFlag(previous bool) string {
	if previous {
		return " --previous"
	}
	return ""
}

func podNames(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, fmt.Sprintf("pod %s (%s)", p.Name, PodReason(&p)))
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func sortStrings(s []string) []string {
	sort.Strings(s)
	return s
}

// q quotes a value pasted into a suggested command for a POSIX shell, when it needs it: names
// from the cluster or a bundle are checked, but a command a user copies must not run
// anything else whatever they hold.
func q(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/=@%+,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// kserveRefuses reads what KServe writes of a spec it cannot serve: modelStatus.transitionStatus
// InvalidSpec with lastFailureInfo (NoSupportingRuntime, RuntimeDisabled, RuntimeNotRecognized,
// InvalidPredictorSpec), and the controller's events on the InferenceService.
func kserveRefuses(s *state.Snapshot, r *Report) *Diagnosis {
	if r.InferenceService == nil || r.InferenceService.ModelStatus == nil {
		return nil
	}
	ms := r.InferenceService.ModelStatus
	transition, _ := ms["transitionStatus"].(string)
	info, _ := ms["lastFailureInfo"].(map[string]any)
	reason, _ := info["reason"].(string)
	message, _ := info["message"].(string)
	if transition != "InvalidSpec" && reason != "NoSupportingRuntime" && reason != "RuntimeNotRecognized" && reason != "RuntimeDisabled" && reason != "InvalidPredictorSpec" {
		return nil
	}
	d := &Diagnosis{Terminal: true,
		Cause:    fmt.Sprintf("KServe refuses the InferenceService's spec: %s: %s.", orDefault(reason, transition), strings.TrimSuffix(orDefault(message, "no reason given"), ".")),
		Evidence: []string{fmt.Sprintf("InferenceService modelStatus: transitionStatus %s, lastFailureInfo %s: %s", orDefault(transition, "-"), orDefault(reason, "-"), message)},
	}
	for _, e := range r.eventsOf(s.Name) {
		if strings.HasPrefix(e.Object, "InferenceService/") {
			d.Evidence = append(d.Evidence, fmt.Sprintf("event %s x%d: %s", e.Reason, e.Count, e.Message))
		}
	}
	switch reason {
	case "NoSupportingRuntime", "RuntimeNotRecognized":
		d.Next = fmt.Sprintf("no serving runtime serves the predictor's model format: compare its modelFormat with kubectl get clusterservingruntimes,servingruntimes -n %s -o custom-columns=NAME:.metadata.name,FORMATS:.spec.supportedModelFormats[*].name,DISABLED:.spec.disabled", q(s.Namespace))
	case "RuntimeDisabled":
		d.Next = fmt.Sprintf("the runtime it names is disabled: kubectl get servingruntimes,clusterservingruntimes -n %s", q(s.Namespace))
	default:
		d.Next = fmt.Sprintf("read KServe's words on it: kubectl get inferenceservice %s -n %s -o jsonpath='{.status.modelStatus}'", q(s.Name), q(s.Namespace))
	}
	return d
}

// kserveCannotReconcile reads the controller's warnings on an InferenceService it could not
// give a status: the objects it tried to make were refused (a resource request above the
// limit, a webhook's no), which it says in InternalError events. The cause is its newest
// words; it tries again, but the same spec fails the same way.
func kserveCannotReconcile(s *state.Snapshot, r *Report) *Diagnosis {
	var newest *EventSummary
	var evidence []string
	for _, e := range r.eventsOf(s.Name) {
		if !strings.HasPrefix(e.Object, "InferenceService/") || e.Type != corev1.EventTypeWarning {
			continue
		}
		if newest == nil {
			newest = &e
		}
		evidence = append(evidence, fmt.Sprintf("event %s x%d: %s", e.Reason, e.Count, e.Message))
	}
	if newest == nil {
		return nil
	}
	return &Diagnosis{Terminal: newest.Count >= terminalRestarts,
		Cause:    fmt.Sprintf("KServe cannot reconcile the InferenceService: %s.", strings.TrimSuffix(newest.Message, ".")),
		Evidence: append(evidence, "the InferenceService has no status: KServe stops before it writes one"),
		Next:     fmt.Sprintf("fix what KServe names in the deployment's spec in Hopsworks (its resources, its image, its volumes); KServe's words: kubectl get events -n %s --field-selector involvedObject.name=%s", q(s.Namespace), q(s.Name))}
}

// times words a count of restarts: once, twice, 3 times.
func times(n int32) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}
