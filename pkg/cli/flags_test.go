package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// Every flag's invalid values, with the exact error and exit code each gets. Flag checks run
// before any API call, so no cluster is needed.
func TestInvalidFlags(t *testing.T) {
	t.Setenv("KUBECONFIG", "/nonexistent/kubeconfig")
	t.Setenv("HOPSDEPLOY_CONFIG", "/nonexistent/config.yaml")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"status"}, "status needs a deployment NAME: kubectl hopsdeploy status NAME (list them with kubectl hopsdeploy list)"},
		{[]string{"status", "a", "b"}, `accepts at most 1 arg(s), received 2`},
		{[]string{"status", "x", "--until", "soon"}, `invalid --until "soon": use ready, stopped or failed`},
		{[]string{"status", "x", "--until", "ready", "--timeout", "-1s"}, "invalid --timeout -1s: it must not be negative"},
		{[]string{"status", "x", "--timeout", "10s"}, "--timeout goes with --until"},
		{[]string{"status", "x", "--timeout", "ten"}, `invalid argument "ten" for "--timeout" flag: time: invalid duration "ten"`},
		{[]string{"status", "x", "--log-lines", "-1"}, "invalid --log-lines -1: it must not be negative"},
		{[]string{"status", "x", "-o", "xml"}, `invalid -o "xml": use one of json, yaml, kyaml, name, jsonpath, jsonpath-as-json, jsonpath-file`},
		{[]string{"status", "x", "-o", "go-template={{.status}}"}, `invalid -o "go-template": go templates are not supported; use -o jsonpath='{...}' (or -o json), one of json,`},
		{[]string{"list", "-o", "templatefile=t.tmpl"}, `invalid -o "templatefile": go templates are not supported; use -o jsonpath='{...}'`},
		{[]string{"status", "x", "--color", "pink"}, `invalid --color "pink": use auto, always or never`},
		{[]string{"status", "x", "--watch=maybe"}, `invalid argument "maybe" for "-w, --watch" flag: strconv.ParseBool: parsing "maybe": invalid syntax`},
		{[]string{"list", "--status", "sleepy"}, `invalid --status "sleepy": use Creating, Created, Starting, Failed, Running, Idle, Updating, Stopping, Stopped`},
		{[]string{"list", "-l", "a=b=c"}, `invalid -l "a=b=c"`},
		{[]string{"list", "-o", "csv"}, `invalid -o "csv": use one of wide, json, yaml`},
		{[]string{"list", "-A", "--project", "p"}, "--project and -A both choose namespaces: give one of them"},
		{[]string{"logs"}, "logs needs a deployment NAME"},
		{[]string{"logs", "x", "-c", "explainer"}, `invalid --component "explainer": use predictor, transformer or all`},
		{[]string{"logs", "x", "--tail", "-2"}, "invalid --tail -2: give a number of lines, 0 or more, or -1 for all"},
		{[]string{"logs", "x", "--tail", "many"}, `invalid argument "many" for "--tail" flag`},
		{[]string{"logs", "x", "--since", "-5m"}, "invalid --since -5m0s: it must be positive, e.g. 10m"},
		{[]string{"logs", "x", "--since", "5"}, `invalid argument "5" for "--since" flag: time: missing unit in duration "5"`},
		{[]string{"logs", "x", "--since", "5m", "--since-time", "2026-11-25T10:00:00Z"}, "--since and --since-time both set where to start: give one of them"},
		{[]string{"logs", "x", "--since-time", "yesterday"}, `invalid --since-time "yesterday": use RFC3339, e.g. 2026-11-25T10:00:00Z`},
		{[]string{"logs", "x", "--limit-bytes", "-1"}, "invalid --limit-bytes -1: it must be positive"},
		{[]string{"logs", "x", "--max-log-requests", "0"}, "invalid --max-log-requests 0: it must be at least 1"},
		{[]string{"logs", "x", "-o", "xml"}, `invalid -o "xml": use raw or json`},
		{[]string{"logs", "x", "-f", "--previous"}, "--previous and --follow do not go together: a previous instance has ended"},
		{[]string{"logs", "x", "--source", "disk"}, `invalid --source "disk": use auto, live or history`},
		{[]string{"logs", "x", "--until", "whenever"}, `invalid --until "whenever": use RFC3339 (2026-11-25T10:00:00Z) or a duration ago (1h)`},
		{[]string{"logs", "x", "--until", "1h", "--source", "live"}, "--until reads history: it does not go with --source live"},
		{[]string{"logs", "x", "--until", "1h", "-f"}, "--until and --follow do not go together: following has no end"},
		{[]string{"logs", "x", "--source", "history", "--previous"}, "--previous reads a live container: it does not go with --source history"},
		{[]string{"logs", "x", "--opensearch-password", "p"}, "unknown flag: --opensearch-password"},
		{[]string{"version", "-o", "xml"}, `invalid -o "xml": use json or yaml`},
		{[]string{"logs", "--from-bundle", "b.tar.gz", "-f"}, "--follow does not go with --from-bundle: a bundle holds each container instance's last lines, without their times, and no history"},
		{[]string{"logs", "--from-bundle", "b.tar.gz", "--since", "1h"}, "--since does not go with --from-bundle"},
		{[]string{"logs", "--from-bundle", "b.tar.gz", "--source", "history"}, "--source does not go with --from-bundle"},
		{[]string{"timeline", "--from-bundle", "b.tar.gz", "--logs"}, "--logs places log lines by their timestamps, which a bundle does not keep"},
		{[]string{"why"}, "why needs a deployment NAME: kubectl hopsdeploy why NAME (or --from-bundle FILE)"},
		{[]string{"timeline", "x", "--chart", "-o", "json"}, "--chart draws the lanes: it does not go with -o json or --logs"},
		{[]string{"timeline", "x", "--chart", "--logs"}, "--chart draws the lanes: it does not go with -o json or --logs"},
		{[]string{"timeline", "x", "--width", "100"}, "invalid --width 100: it goes with --chart, and is 60 columns or more"},
		{[]string{"timeline", "x", "--chart", "--width", "40"}, "invalid --width 40: it goes with --chart, and is 60 columns or more"},
		{[]string{"nosuch"}, `unknown command "nosuch" for "hopsdeploy"`},
		{[]string{"statsu"}, `did you mean status?`},
		{[]string{"status", "fraud,!x"}, `invalid deployment name "fraud,!x": a valid label must be`},
		{[]string{"status", ""}, "the deployment name is empty"},
		{[]string{"status", "x!=y"}, `invalid deployment name "x!=y"`},
		{[]string{"status", strings.Repeat("a", 64)}, "must be no more than 63"},
		{[]string{"logs", "a b"}, `invalid deployment name "a b"`},
		{[]string{"why", "a,b"}, `invalid deployment name "a,b"`},
		{[]string{"timeline", "a=b"}, `invalid deployment name "a=b"`},
		{[]string{"bundle", "a;b"}, `invalid deployment name "a;b"`},
		{[]string{"status", "x", "--project", "p,q"}, `invalid project name "p,q"`},
		{[]string{"list", "--project", "a!b"}, `invalid project name "a!b"`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			root := NewRootCommand(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
			root.SetArgs(tc.args)
			code := Report(root.Execute(), &errOut)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			msg := errOut.String()
			if !strings.HasPrefix(msg, "error: ") || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 {
				t.Errorf("stderr %q\nwant one line with %q", msg, tc.want)
			}
		})
	}
}

// A --watch retry warning carries the API server's words: one line, no control sequence.
func TestWatchWarningIsSanitised(t *testing.T) {
	var b strings.Builder
	watchWarning(&b, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), errors.New("etcd down\x1b]52;c;ZXZpbA==\x07\nsecond line\x1b[2J"))
	if strings.ContainsAny(b.String(), "\x1b\x07") || strings.Count(b.String(), "\n") != 1 {
		t.Errorf("%q", b.String())
	}
}
