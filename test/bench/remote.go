package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
)

// remoteRTTs are the round trips to the API server that benchRemote measures at: loopback
// (through the same proxy, so that only the delay differs), a server in the same region, and
// one a continent away.
var remoteRTTs = []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond}

// benchRemote measures status, list, live logs and history as from an API server (and an
// OpenSearch) rtt away (a delay line before each: every byte arrives rtt/2 later, each way),
// beside kubectl's equivalent, at each of remoteRTTs. Each row says what a remote server
// adds, which loopback hides.
func benchRemote() error {
	for _, b := range []func() error{benchRemoteStatus, benchRemoteList, benchRemoteLogs, benchRemoteFollow, benchRemoteHistory} {
		if err := b(); err != nil {
			return err
		}
	}
	return nil
}

// benchRemoteStatus is status from an API server at each of remoteRTTs. Its round trips: the
// connection (TCP's and TLS's handshakes), the parallel lists, the read of the crashed
// container's last lines; nothing of it can start before the step before it ends.
func benchRemoteStatus() error {
	ns, err := statusScenario()
	if err != nil {
		return err
	}
	return remoteRows("Status", 4, func(kcfg string) []job {
		return []job{
			{name: "floor: the same API calls in-process", fn: statusFloor(kcfg, ns, "churn")},
			{name: "kubectl get isvc,pods,events -l", cmds: [][]string{{kubectl(), "--kubeconfig", kcfg, "get", "isvc,pods,events", "-n", ns, "-l", "serving.hops.works/name=churn"}}, check: getChecked},
			{name: "kubectl hopsdeploy status (with diagnosis and log lines)", cmds: [][]string{{*plugin, "--kubeconfig", kcfg, "status", "churn", "-n", ns}}, check: statusChecked},
		}
	})
}

// benchRemoteList is list in a namespace from an API server at each of remoteRTTs. Its round
// trips: the connection's two handshakes, then the parallel lists.
func benchRemoteList() error {
	ns, err := statusScenario()
	if err != nil {
		return err
	}
	return remoteRows("List", 3, func(kcfg string) []job {
		return []job{
			{name: "kubectl get isvc,pods", cmds: [][]string{{kubectl(), "--kubeconfig", kcfg, "get", "isvc,pods", "-n", ns}}, check: outputHas(0, "churn", "churn-predictor-")},
			{name: "kubectl hopsdeploy list", cmds: [][]string{{*plugin, "--kubeconfig", kcfg, "list", "-n", ns}}, check: outputHas(2, "churn")},
		}
	})
}

// remoteRows measures jobs (kubectl's next to last, the plugin's last; jobs makes them for a
// kubeconfig) from an API server at each of remoteRTTs. The plugin's goal: kubectl's wall or
// less at the same distance, and, away, its own loopback wall + roundTrips round trips + 20 ms.
func remoteRows(what string, roundTrips float64, jobs func(kcfg string) []job) error {
	base := map[string]time.Duration{}
	for _, rtt := range remoteRTTs {
		p, kcfg, err := apiServerAway(rtt)
		if err != nil {
			return err
		}
		js := jobs(kcfg)
		own := &js[len(js)-1]
		own.goal = &goal{Against: js[len(js)-2].name, Wall: 1.0}
		if rtt > 0 {
			own.goal.RTT, own.goal.Base, own.goal.RoundTrips, own.goal.Slack = rtt, base[own.name], roundTrips, 20*time.Millisecond
		}
		all, err := measureStats(fmt.Sprintf("%s, API server %s away", what, rtt), *runs, js, func(name string, s sample) string {
			if rtt == 0 {
				return ""
			}
			return fmt.Sprintf("%.1f round trips beyond loopback", float64(s.wall-base[name])/float64(rtt))
		})
		p.Close()
		if err != nil {
			return err
		}
		if rtt == 0 {
			for name, st := range all {
				base[name] = st.wall
			}
		}
	}
	return nil
}

// benchRemoteLogs reads every line of the live-logs benchmark's pods from an API server at
// each of remoteRTTs: the floor, kubectl logs (which reads the pods one after another without
// -f), stern and the plugin; each row says when its first line came. The floor here is a
// process of its own (test/bench/logsfloor): a first line that any command-line tool shows
// comes after its start and its kubeconfig, which an in-process floor skips (the plugin
// starts in 8 ms, more than the goal's 10 ms of slack could hold).
func benchRemoteLogs() error {
	ns, sc, err := logsScenario()
	if err != nil {
		return err
	}
	sel, n := "serving.hops.works/name=bench", fmt.Sprint(*pods)
	seq := func() checker { return newSeqCheck(*pods, *lines) }
	for _, rtt := range remoteRTTs {
		p, kcfg, err := apiServerAway(rtt)
		if err != nil {
			return err
		}
		floor, kl := "floor: a process reading every stream in goroutines", "kubectl logs -l --prefix"
		jobs := []job{
			logsFloorProcess(floor, kcfg, ns, sc.PodNames()),
			{name: kl, cmds: [][]string{{kubectl(), "--kubeconfig", kcfg, "logs", "-n", ns, "-l", sel, "-c", "kserve-container", "--prefix", "--max-log-requests", n, "--tail=-1"}}, check: seq},
		}
		if *stern != "" {
			jobs = append(jobs, job{name: "stern --no-follow", cmds: [][]string{{*stern, "--kubeconfig", kcfg, "-n", ns, "-l", sel, "-c", "kserve-container", "--no-follow", "--max-log-requests", n, "--since", "48h", "--color", "never"}}, check: seq})
		}
		// The plugin asks for the streams it read last time while it lists the pods (its
		// warm-up run remembered them); the row without that memory shows the lists' round trip.
		jobs = append(jobs, job{name: "kubectl hopsdeploy logs, nothing remembered (--cache-dir \"\")", cmds: [][]string{{*plugin, "--kubeconfig", kcfg, "--cache-dir", "", "logs", "bench", "-n", ns, "--tail", "-1", "--prefix", "--max-log-requests", n}}, check: seq})
		jobs = append(jobs, job{name: "kubectl hopsdeploy logs", cmds: [][]string{{*plugin, "--kubeconfig", kcfg, "logs", "bench", "-n", ns, "--tail", "-1", "--prefix", "--max-log-requests", n}}, check: seq,
			goal: &goal{Against: kl, Wall: 1.0, FirstOf: floor, RTT: rtt, FirstSlack: 10 * time.Millisecond}})
		_, err = measureStats(fmt.Sprintf("Live logs, %d pods x %d lines, API server %s away", *pods, *lines, rtt), *runs, jobs, func(_ string, s sample) string {
			return fmt.Sprintf("first line at %s", s.first.Round(time.Millisecond))
		})
		p.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// logsFloorProcess is the live-logs floor as a process of its own (test/bench/logsfloor),
// reading the named pods from the kubeconfig's API server, its output checked.
func logsFloorProcess(name, kubeconfig, ns string, names []string) job {
	cmd := append([]string{*floorP, kubeconfig, ns, "kserve-container", fmt.Sprint(*lines)}, names...)
	return job{name: name, cmds: [][]string{cmd}, check: outputHas(0, "first\n", fmt.Sprintf("\n%d lines\n", *pods**lines))}
}

// benchRemoteFollow starts following the live-logs benchmark's pods (each stream's last line,
// then what comes) from an API server at each of remoteRTTs, and measures until every stream
// has printed: what a user waits for before the follow shows the whole deployment.
func benchRemoteFollow() error {
	ns, _, err := logsScenario()
	if err != nil {
		return err
	}
	sel, n := "serving.hops.works/name=bench", fmt.Sprint(*pods)
	check := func() checker { return newOpenCheck(*pods) }
	for _, rtt := range remoteRTTs {
		p, kcfg, err := apiServerAway(rtt)
		if err != nil {
			return err
		}
		kl := "kubectl logs -f -l --prefix --tail 1"
		jobs := []job{{name: kl, cmds: [][]string{{kubectl(), "--kubeconfig", kcfg, "logs", "-f", "-n", ns, "-l", sel, "-c", "kserve-container", "--prefix", "--max-log-requests", n, "--tail", "1"}}, check: check, open: true}}
		if *stern != "" {
			jobs = append(jobs, job{name: "stern --tail 1", cmds: [][]string{{*stern, "--kubeconfig", kcfg, "-n", ns, "-l", sel, "-c", "kserve-container", "--max-log-requests", n, "--tail", "1", "--color", "never"}}, check: check, open: true})
		}
		jobs = append(jobs, job{name: "kubectl hopsdeploy logs -f --tail 1", cmds: [][]string{{*plugin, "--kubeconfig", kcfg, "logs", "bench", "-f", "-n", ns, "--tail", "1", "--prefix", "--max-log-requests", n}},
			check: check, open: true, goal: &goal{Against: kl, Wall: 1.0}})
		err = measure(fmt.Sprintf("Following %d pods until every stream is open, API server %s away", *pods, rtt), jobs, nil)
		p.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// benchRemoteHistory exports the history benchmark's lines with OpenSearch and the API
// server at each of remoteRTTs (the same delay line before each): the bare search_after loop,
// which waits for each page before it asks for the next (OpenSearch only), and the plugin,
// which reads the deployment before its history; each row says when its first line came.
func benchRemoteHistory() error {
	url, ns, project, err := historyScenario()
	if err != nil {
		return err
	}
	host := strings.TrimPrefix(url, "http://")
	for _, rtt := range remoteRTTs {
		api, kcfg, err := apiServerAway(rtt)
		if err != nil {
			return err
		}
		p, err := testenv.NewLatencyProxy(host, rtt)
		if err != nil {
			api.Close()
			return err
		}
		far := "http://" + p.Addr
		bare, sliced := "bare search_after loop (reads pages only)", slicedFloorName()
		jobs := []job{
			// A client of its own each run: its connection is as new as a process's.
			{name: bare, fn: func() error {
				return bareLoop(&http.Client{Transport: &http.Transport{}}, far, "", project+"_serving-*", *docs)
			}},
			{name: sliced, fn: slicedFloor(far, project+"_serving-*", *docs)},
			{name: "kubectl hopsdeploy logs --source history", cmds: [][]string{{*plugin, "--kubeconfig", kcfg, "logs", "hist", "-n", ns, "--source", "history", "--since", "72h", "-o", "raw", "--opensearch-url", far}},
				check: historyChecked, goal: &goal{Against: sliced, Wall: 1 / 0.8}},
		}
		_, err = measureStats(fmt.Sprintf("History, %d lines, API server and OpenSearch %s away", *docs, rtt), *runs, jobs, func(_ string, s sample) string {
			note := fmt.Sprintf("%.0f lines/s", float64(*docs)/s.wall.Seconds())
			if s.first > 0 {
				note += fmt.Sprintf("; first line at %s", s.first.Round(time.Millisecond))
			}
			return note
		})
		p.Close()
		api.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// apiServerAway puts the API server rtt away (a delay line before it) and returns the line
// and a kubeconfig through it; the caller closes the line.
func apiServerAway(rtt time.Duration) (*testenv.TCPProxy, string, error) {
	p, err := testenv.NewLatencyProxy(cluster.APIServerAddr(), rtt)
	if err != nil {
		return nil, "", err
	}
	kcfg, err := kubeconfigThrough(p.Addr, fmt.Sprintf("kubeconfig-rtt-%dms", rtt.Milliseconds()))
	if err != nil {
		p.Close()
		return nil, "", err
	}
	return p, kcfg, nil
}

// kubeconfigThrough writes, into -dir, the benchmarks' kubeconfig with its server at addr.
func kubeconfigThrough(addr, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(*dir, "kubeconfig"))
	if err != nil {
		return "", err
	}
	path, err := filepath.Abs(filepath.Join(*dir, name))
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(strings.ReplaceAll(string(b), cluster.APIServerAddr(), addr)), 0o600)
}
