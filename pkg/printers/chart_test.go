package printers_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
)

// rollout is a deployment in the middle of a rollout: the old revision's pod ready for half an
// hour, the new revision's pod created two minutes ago, still downloading its model.
func rollout() fixtures.Scenario {
	return fixtures.Scenario{
		Serving: fixtures.Serving{Name: "fraud", Namespace: "demo", ID: 11, Revision: "55512345"},
		ISVC:    &fixtures.ISVCStatus{Ready: "True"},
		Pods: []fixtures.PodSpec{
			{Component: "predictor", Suffix: "old01", Age: 30 * time.Minute},
			{Component: "predictor", Suffix: "new02", Age: 2 * time.Minute, State: fixtures.PodState{InitRunning: true}},
		},
	}
}

// The chart of a crash loop, a rollout with two revisions and an init failure, at 100 columns,
// in plain characters (a pipe) and drawn ones (a terminal).
func TestChartGolden(t *testing.T) {
	catalog := fixtures.Catalog("demo")
	for name, sc := range map[string]fixtures.Scenario{
		"crashloop": catalog["predictorcrash"], "rollout": rollout(), "initfailure": catalog["storageinitfailing"],
	} {
		t.Run(name, func(t *testing.T) {
			c := diagnose.BuildChart(sc.Snapshot(now))
			for _, fancy := range []bool{false, true} {
				var b bytes.Buffer
				if err := printers.Chart(&b, c, printers.ChartOptions{Width: 100, Fancy: fancy}); err != nil {
					t.Fatal(err)
				}
				file := name + ".chart.txt"
				if fancy {
					file = name + ".chart.fancy.txt"
				}
				compare(t, file, b.Bytes())
				for i, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
					if n := len([]rune(line)); n > 100 {
						t.Errorf("%s line %d is %d columns wide: %q", file, i, n, line)
					}
				}
				if !fancy && strings.ContainsFunc(b.String(), func(r rune) bool { return r > 127 }) {
					t.Errorf("%s: plain characters only", file)
				}
			}
		})
	}
}
