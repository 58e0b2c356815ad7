package printers

import "testing"

func TestModelStatusLine(t *testing.T) {
	for _, tc := range []struct {
		ms   map[string]any
		want string
	}{
		{map[string]any{"transitionStatus": "UpToDate", "states": map[string]any{"activeModelState": "Loaded", "targetModelState": "Loaded"},
			"copies": map[string]any{"totalCopies": int64(1), "failedCopies": int64(0)}}, "UpToDate; Loaded; 1 copies"},
		{map[string]any{"transitionStatus": "BlockedByFailedLoad", "states": map[string]any{"activeModelState": "", "targetModelState": "FailedToLoad"},
			"lastFailureInfo": map[string]any{"reason": "ModelLoadFailed", "exitCode": int64(1), "message": "No module named 'sklearn'"}},
			"BlockedByFailedLoad; last failure: ModelLoadFailed exit 1: No module named 'sklearn'"},
		{map[string]any{"states": map[string]any{"activeModelState": "Pending", "targetModelState": "Loaded"}, "copies": map[string]any{"totalCopies": float64(2), "failedCopies": float64(1)}},
			"Pending (target Loaded); 2 copies, 1 failed"},
		{map[string]any{"odd": true}, `{"odd":true}`},
	} {
		if got := ModelStatusLine(tc.ms); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
