package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestGatherFromCacheListsFromTheWatchCache checks that logs' gather (FromCache) asks every
// list for resourceVersion "0", served from the API server's watch cache, and that every
// other gather reads consistently (no resourceVersion).
func TestGatherFromCacheListsFromTheWatchCache(t *testing.T) {
	for _, fromCache := range []bool{false, true} {
		c, _ := crowded(t, 0)
		c.SkipForbidden, c.FromCache = fromCache, fromCache
		var mu sync.Mutex
		var seen []string
		record := func(a k8stesting.Action) (bool, runtime.Object, error) {
			if l, ok := a.(k8stesting.ListActionImpl); ok {
				mu.Lock()
				seen = append(seen, fmt.Sprintf("%s rv=%q", l.GetResource().Resource, l.ListOptions.ResourceVersion))
				mu.Unlock()
			}
			return false, nil, nil
		}
		c.Kube.(*fake.Clientset).PrependReactor("list", "*", record)
		c.Dyn.(*dynamicfake.FakeDynamicClient).PrependReactor("list", "*", record)
		if _, err := c.Gather(context.Background(), "ns", "fraud"); err != nil {
			t.Fatal(err)
		}
		want := `rv=""`
		if fromCache {
			want = `rv="0"`
		}
		if len(seen) < 4 {
			t.Fatalf("FromCache=%v: lists %v, want at least the InferenceServices, Deployments and pods", fromCache, seen)
		}
		for _, s := range seen {
			if !strings.HasSuffix(s, want) {
				t.Errorf("FromCache=%v: list %s, want %s", fromCache, s, want)
			}
		}
	}
}
