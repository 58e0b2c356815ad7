package diagnose

import "github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"

// Until tells whether what `status --until` waits for has come: "ready" (Running or Idle),
// "stopped" or "failed". gone says nothing of the deployment is left in the cluster, which
// is Stopped. failedInstead says the deployment failed while waiting for ready: Hopsworks says
// Failed, or the diagnosis is terminal (it will not get further without a change: the wait
// ends at once, not at its timeout).
func Until(target string, r *Report, gone bool) (done, failedInstead bool) {
	status := ""
	if r != nil {
		status = r.Status
	}
	if gone {
		status = string(state.Stopped)
	}
	switch target {
	case "ready":
		if status == string(state.Running) || status == string(state.Idle) {
			return true, false
		}
		failed := status == string(state.Failed) || (r != nil && r.Diagnosis != nil && r.Diagnosis.Terminal)
		return failed, failed
	case "stopped":
		return status == string(state.Stopped), false
	case "failed":
		return status == string(state.Failed), false
	}
	return false, false
}
