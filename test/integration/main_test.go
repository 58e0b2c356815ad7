//go:build integration

package integration

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// result is one run of the plugin.
type result struct {
	out, err string
	code     int
}

// plugin runs the plugin binary with the admin kubeconfig.
func plugin(t *testing.T, args ...string) result {
	t.Helper()
	return pluginEnv(t, nil, args...)
}

func pluginEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	e := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.PluginBin, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+e.Kubeconfig, "NO_COLOR=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run plugin: %v", err)
	}
	return result{out.String(), errb.String(), code}
}

// must fails the test unless the run exited 0.
func (r result) must(t *testing.T) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	return r
}

func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

// kubectlPath is the real kubectl built for the tests, in a PATH with the plugin.
func kubectlPath(t *testing.T) (string, []string) {
	e := testenv.Get(t)
	path := filepath.Dir(testenv.PluginBin) + string(os.PathListSeparator) + os.Getenv("PATH")
	return filepath.Join(e.Assets, "kubectl"), []string{"PATH=" + path, "KUBECONFIG=" + e.Kubeconfig}
}
