// Package arch checks that the packages' imports point the way docs/architecture.md says:
// down from the commands to the pure core, never back up.
package arch

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowed are the packages of ours each package may import (docs/architecture.md,
// "Dependencies point one way"). A new arrow is added here and there together.
var allowed = map[string][]string{
	"state":     nil,
	"term":      nil,
	"version":   nil,
	"diagnose":  {"state"},
	"printers":  {"diagnose", "state", "term"},
	"bundle":    {"diagnose", "state"},
	"hopsworks": {"term"},
	"history":   {"hopsworks", "term"},
	"cluster":   {"state"},
	"logs":      {"cluster", "state", "term"},
	"inspect":   {"bundle", "cluster", "diagnose", "history", "logs", "state", "term"},
	"cli":       {"bundle", "cluster", "diagnose", "history", "hopsworks", "inspect", "logs", "printers", "state", "term", "version"},
}

func TestImportsPointOneWay(t *testing.T) {
	const module = "github.com/hopsdeploy/kubectl-hopsdeploy/pkg/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "../../pkg/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], module)
		if !ok {
			continue
		}
		seen++
		may, known := allowed[pkg]
		if !known {
			t.Errorf("pkg/%s is not in the dependency map: add it here and to docs/architecture.md", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if dep, ours := strings.CutPrefix(imp, module); ours && !slices.Contains(may, dep) {
				t.Errorf("pkg/%s imports pkg/%s: an arrow docs/architecture.md does not have", pkg, dep)
			}
		}
	}
	if seen != len(allowed) {
		t.Errorf("%d packages under pkg/, %d in the map", seen, len(allowed))
	}
}
