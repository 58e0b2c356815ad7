package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/bench/statuscalls"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/bench/streamfloor"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
)

// The floors: the least a command's work can cost, done in this process with client-go and
// nothing else (no process start, no decoding beyond what the work needs, output discarded).
// A tool's row is read against its floor, not only against its peers.

// The output checks of the status benchmarks: kubectl's get lists the objects, status says
// the state, the condition and the crashed container's last lines.
var (
	getChecked    = outputHas(0, "inferenceservice.serving.kserve.io/churn", "pod/churn-predictor-")
	statusChecked = outputHas(0, "Status:     Failed", "Condition:  STARTED false", "ModuleNotFoundError")
)

// statusFloor makes status's API calls (statuscalls.Status) from the API server the
// kubeconfig names, with clients of its own each run (a connection as new as a process's).
func statusFloor(kubeconfig, ns, name string) func() error {
	return func() error {
		kc, dc, err := clientsOf(kubeconfig, true)
		if err != nil {
			return err
		}
		return statuscalls.Status(context.Background(), kc, dc, ns, name)
	}
}

// logsFloor reads every pod's log to the end, one stream a goroutine over a connection of
// its own (HTTP/1.1: no stream shares a connection or a window with another), into a line
// count, from the API server the kubeconfig names; first says when the last run's first bytes came.
func logsFloor(kubeconfig, ns string, pods []string, lines int) (run func() error, first func() time.Time) {
	var fw *firstWrite
	run = func() error {
		fw = &firstWrite{}
		kc, err := streamfloor.Clientset(kubeconfig)
		if err != nil {
			return err
		}
		g, ctx := errgroup.WithContext(context.Background())
		for _, p := range pods {
			g.Go(func() error {
				rc, err := kc.CoreV1().Pods(ns).GetLogs(p, &corev1.PodLogOptions{Container: state.ContainerMain}).Stream(ctx)
				if err != nil {
					return err
				}
				defer rc.Close()
				n, err := streamfloor.CountLines(rc, func() { _, _ = fw.before(io.Discard).Write([]byte{0}) })
				if err == nil && n != lines {
					err = fmt.Errorf("%s: %d lines, want %d", p, n, lines)
				}
				return err
			})
		}
		return g.Wait()
	}
	return run, func() time.Time { return fw.at() }
}

// listFloor reads what list -A reads, as the plugin reads it, with nothing decoded: every
// InferenceService in one JSON request, beside every pod with the Hopsworks name label in
// protobuf pages of 500 (the pager's size), each page's bytes dropped once its continue
// token is read from the protobuf envelope.
func listFloor() error {
	kc, _, err := clients()
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(context.Background())
	rc := kc.CoreV1().RESTClient()
	g.Go(func() error {
		body, err := kc.Discovery().RESTClient().Get().AbsPath("/apis/serving.kserve.io/v1beta1/inferenceservices").Stream(ctx)
		if err != nil {
			return err
		}
		defer body.Close()
		_, err = io.Copy(io.Discard, body)
		return err
	})
	g.Go(func() error {
		for next := ""; ; {
			req := rc.Get().AbsPath("/api/v1/pods").Param("limit", "500").Param("labelSelector", state.LabelName).
				SetHeader("Accept", "application/vnd.kubernetes.protobuf")
			if next != "" {
				req = req.Param("continue", next)
			}
			b, err := req.DoRaw(ctx)
			if err != nil {
				return err
			}
			if next, err = protoContinue(b); err != nil || next == "" {
				return err
			}
		}
	})
	return g.Wait()
}

// protoContinue reads a list's continue token from the API server's protobuf answer: "k8s\0",
// then runtime.Unknown, whose field 2 (raw) is the list, whose field 1 is its ListMeta,
// whose field 3 is the token. Nothing else is decoded; the items are skipped by length.
func protoContinue(b []byte) (string, error) {
	if !bytes.HasPrefix(b, []byte("k8s\x00")) {
		return "", fmt.Errorf("not a protobuf answer: %.40q", b)
	}
	raw, ok := protoField(b[4:], 2)
	if !ok {
		return "", fmt.Errorf("a protobuf answer without its object")
	}
	meta, ok := protoField(raw, 1)
	if !ok {
		return "", nil
	}
	token, _ := protoField(meta, 3)
	return string(token), nil
}

// protoField is the first length-delimited field num of a protobuf message.
func protoField(b []byte, num protowire.Number) ([]byte, bool) {
	for len(b) > 0 {
		n, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			return nil, false
		}
		b = b[k:]
		if n == num && typ == protowire.BytesType {
			v, k := protowire.ConsumeBytes(b)
			return v, k >= 0
		}
		k = protowire.ConsumeFieldValue(n, typ, b)
		if k < 0 {
			return nil, false
		}
		b = b[k:]
	}
	return nil, false
}

// slicedFloor is history's floor, the server's limit: the matching documents read in a
// point in time cut into slices (as many as cores, each paged with search_after by
// itself), unordered (in index order: a document's number, "_doc", then its _id, since the
// number is only unique in its shard and the lines span two daily indices; the count is
// checked), each answer read whole and only its hits counted and its last sort
// values cut out, over a client of its own each run. It checks the count.
func slicedFloor(url, index string, want int) func() error {
	return func() error {
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: runtime.NumCPU()}}
		defer c.CloseIdleConnections()
		post := func(path string, body any) ([]byte, error) {
			var rd io.Reader
			if body != nil {
				b, _ := json.Marshal(body)
				rd = bytes.NewReader(b)
			}
			req, _ := http.NewRequest(http.MethodPost, url+path, rd)
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("sliced floor: %s: %s", resp.Status, clip(b))
			}
			return b, err
		}
		b, err := post("/"+index+"/_search/point_in_time?keep_alive=1m", nil)
		if err != nil {
			return err
		}
		var pit struct {
			ID string `json:"pit_id"`
		}
		if err := json.Unmarshal(b, &pit); err != nil || pit.ID == "" {
			return fmt.Errorf("sliced floor: no point in time: %s", clip(b))
		}
		defer func() {
			req, _ := http.NewRequest(http.MethodDelete, url+"/_search/point_in_time", strings.NewReader(`{"pit_id":["`+pit.ID+`"]}`))
			req.Header.Set("Content-Type", "application/json")
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		slices := runtime.NumCPU()
		var n atomic.Int64
		g := new(errgroup.Group)
		for id := range slices {
			g.Go(func() error {
				var after json.RawMessage
				for {
					body := map[string]any{"size": 2000, "query": map[string]any{"term": map[string]any{"serving_name.keyword": "hist"}},
						"sort": []any{"_doc", map[string]any{"_id": "asc"}}, "track_total_hits": false,
						"pit":   map[string]any{"id": pit.ID, "keep_alive": "1m"},
						"slice": map[string]any{"id": id, "max": slices}}
					if after != nil {
						body["search_after"] = after
					}
					b, err := post("/_search", body)
					if err != nil {
						return err
					}
					hits := bytes.Count(b, []byte(`"_source"`))
					n.Add(int64(hits))
					if hits < 2000 {
						return nil
					}
					i := bytes.LastIndex(b, []byte(`"sort":`))
					j := bytes.IndexByte(b[i:], ']')
					if i < 0 || j < 0 {
						return fmt.Errorf("sliced floor: a page without sort values")
					}
					after = json.RawMessage(b[i+len(`"sort":`) : i+j+1])
				}
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if int(n.Load()) != want {
			return fmt.Errorf("sliced floor read %d documents, want %d", n.Load(), want)
		}
		return nil
	}
}
