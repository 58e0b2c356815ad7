package diagnose

import "github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"

// Until tells whether what `status --until` waits for has come: "ready" (Running or Idle),
// "stopped" or "failed". gone says nothing of the deployment is left in the cluster, which
// is Stopped. failedInstead says the deployment failed while waiting for ready: Hopsworks says
// Failed, or the diagnosis is terminal (it will not get further without a change: the wait
// ends at once, not at its timeout). A Ready that speaks of an older generation than the
// spec's never counts.
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
		// A Ready of the previous generation is not the new spec's: wait for the controllers.
		if (status == string(state.Running) || status == string(state.Idle)) && (r == nil || !r.Stale) {
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
