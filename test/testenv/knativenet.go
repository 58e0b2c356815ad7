package testenv

// The network layer of the living cluster's Knative: the one part of Knative Serving that
// cannot run here (Envoy behind Kourier or Istio, kube-proxy, pod networking). Two stand-ins,
// no more forgiving than what they stand for:
//   - the KIngress status: what Kourier's reconciler reports once Envoy holds an Ingress's
//     routes (ready, with its gateways' addresses), for Ingresses of Kourier's class only;
//   - the cluster network as the autoscaler reaches it (through HTTP_PROXY): a Service's name
//     goes to an endpoint of the Service, a pod IP to the pod, and there the containers KWOK
//     cannot run answer as they would: a revision pod's queue-proxy serves its metrics (no
//     requests: nothing sends any) and refuses a probe meant for another, the activator
//     answers its probe. Anything else, and any pod not running, is a 502, as a dead route is.

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// IngressClass is the network layer the KIngress stand-in reports for: Kourier's.
const IngressClass = "kourier.ingress.networking.knative.dev"

// Kourier's gateways, as its reconciler writes them into an Ingress's status.
const (
	kourierExternal = "kourier.kourier-system.svc.cluster.local"
	kourierInternal = "kourier-internal.kourier-system.svc.cluster.local"
)

var kingressGVR = schema.GroupVersionResource{Group: "networking.internal.knative.dev", Version: "v1alpha1", Resource: "ingresses"}

// startIngressStandIn reports each Kourier-class KIngress as Kourier does once its routes
// are programmed: LoadBalancerReady with the gateways' addresses, NetworkConfigured, Ready,
// and the generation observed.
func (l *Living) startIngressStandIn() {
	ctx, cancel := context.WithCancel(context.Background())
	l.stops = append(l.stops, cancel)
	f := dynamicinformer.NewDynamicSharedInformerFactory(l.standInDyn, 0)
	inf := f.ForResource(kingressGVR).Informer()
	report := func(obj any) {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			l.reportIngress(ctx, u)
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: report, UpdateFunc: func(_, o any) { report(o) }})
	f.Start(ctx.Done())
}

// standInClients are the stand-ins' own clients: the warnings the API server passes on from
// Knative's webhook are for Knative's users, not for the test's output.
func (l *Living) standInClients() error {
	cfg := rest.CopyConfig(l.Config)
	cfg.WarningHandler = rest.NoWarnings{}
	var err error
	if l.standInKube, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	l.standInDyn, err = dynamic.NewForConfig(cfg)
	return err
}

func (l *Living) reportIngress(ctx context.Context, u *unstructured.Unstructured) {
	if u.GetAnnotations()["networking.knative.dev/ingress.class"] != IngressClass || u.GetDeletionTimestamp() != nil {
		return
	}
	if g, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration"); g == u.GetGeneration() {
		return
	}
	now := time.Now().UTC().Format(time.RFC3339)
	var conds []any
	for _, t := range []string{"LoadBalancerReady", "NetworkConfigured", "Ready"} {
		conds = append(conds, map[string]any{"type": t, "status": "True", "lastTransitionTime": now})
	}
	u = u.DeepCopy()
	u.Object["status"] = map[string]any{
		"observedGeneration":  u.GetGeneration(),
		"conditions":          conds,
		"publicLoadBalancer":  map[string]any{"ingress": []any{map[string]any{"domainInternal": kourierExternal}}},
		"privateLoadBalancer": map[string]any{"ingress": []any{map[string]any{"domainInternal": kourierInternal}}},
	}
	// A conflict means a newer generation, which the informer brings again.
	_, _ = l.standInDyn.Resource(kingressGVR).Namespace(u.GetNamespace()).UpdateStatus(ctx, u, metav1.UpdateOptions{})
}

// startNetwork serves the cluster network on loopback as an HTTP proxy, and returns its URL.
func (l *Living) startNetwork() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(l.route), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	l.stops = append(l.stops, func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), nil
}

// route takes a proxied request to the pod behind its address, as the cluster network does.
func (l *Living) route(w http.ResponseWriter, r *http.Request) {
	host, port := r.URL.Hostname(), r.URL.Port()
	if port == "" {
		port = "80"
	}
	ctx := r.Context()
	ip := host
	if net.ParseIP(host) == nil {
		// <service>.<namespace>[.svc[.cluster.local]]: one of the Service's ready endpoints.
		parts := strings.Split(host, ".")
		if len(parts) < 2 {
			http.Error(w, "no such host: "+host, http.StatusBadGateway)
			return
		}
		var err error
		if ip, port, err = l.endpointOf(ctx, parts[1], parts[0], port); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
	}
	pods, err := l.standInKube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "status.podIP=" + ip})
	if err != nil || len(pods.Items) == 0 || pods.Items[0].Status.Phase != corev1.PodRunning {
		http.Error(w, "no running pod at "+ip, http.StatusBadGateway)
		return
	}
	l.answerAsPod(w, r, &pods.Items[0], port)
}

// endpointOf is a ready endpoint of a Service for a service port, and its target port (from
// the Service's EndpointSlices, as kube-proxy reads them).
func (l *Living) endpointOf(ctx context.Context, ns, name, port string) (string, string, error) {
	svc, err := l.standInKube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", "", err
	}
	var portName string
	for _, p := range svc.Spec.Ports {
		if strconv.Itoa(int(p.Port)) == port {
			portName = p.Name
		}
	}
	slices, err := l.standInKube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
	if err != nil {
		return "", "", err
	}
	for _, s := range slices.Items {
		for _, p := range s.Ports {
			if p.Name == nil || *p.Name != portName || p.Port == nil {
				continue
			}
			for _, e := range s.Endpoints {
				if (e.Conditions.Ready == nil || *e.Conditions.Ready) && len(e.Addresses) > 0 {
					return e.Addresses[0], strconv.Itoa(int(*p.Port)), nil
				}
			}
		}
	}
	return "", "", fmt.Errorf("service %s/%s has no ready endpoint for port %s", ns, name, port)
}

// answerAsPod answers as the container behind a pod's port would, for the containers KWOK
// cannot run: the activator's probe, a revision's queue-proxy (metrics; probes).
func (l *Living) answerAsPod(w http.ResponseWriter, r *http.Request, pod *corev1.Pod, port string) {
	probe := r.Header.Get("K-Network-Probe")
	switch {
	case pod.Namespace == KnativeNamespace && pod.Labels["app"] == "activator" && port == "8012" && probe != "":
		if probe != "activator" {
			http.Error(w, fmt.Sprintf("unexpected probe header value: %q", probe), http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("activator"))
	case pod.Labels["serving.knative.dev/revision"] != "" && port == "9090" && r.URL.Path == "/metrics":
		up, ok := containerUp(pod, "queue-proxy")
		if !ok {
			http.Error(w, "queue-proxy is not running", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/protobuf")
		_, _ = w.Write(queueStat(pod.Name, up))
	case pod.Labels["serving.knative.dev/revision"] != "" && port == "8012" && probe != "":
		if probe != "queue" {
			http.Error(w, fmt.Sprintf("unexpected probe header value: %q", probe), http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("queue"))
	default:
		http.Error(w, "the network stand-in carries no traffic to "+pod.Name+":"+port, http.StatusBadGateway)
	}
}

// containerUp is how long a running container has run.
func containerUp(pod *corev1.Pod, name string) (time.Duration, bool) {
	for _, c := range pod.Status.ContainerStatuses {
		if c.Name == name && c.State.Running != nil {
			return time.Since(c.State.Running.StartedAt.Time), true
		}
	}
	return 0, false
}

// queueStat is queue-proxy's answer to the autoscaler's scrape (Knative's metrics.Stat, in
// protobuf): no requests in flight or served, and its uptime.
func queueStat(pod string, up time.Duration) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, pod)
	b = protowire.AppendTag(b, 6, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(up.Seconds()))
	b = protowire.AppendTag(b, 7, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(time.Now().Unix()))
}
