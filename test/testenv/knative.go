package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// KnativeNamespace is where Knative Serving's parts live, as a release installs them.
const KnativeNamespace = "knative-serving"

// KnativeConfig is what the living cluster changes in Knative Serving's own ConfigMaps, by
// ConfigMap and key; everything else is the release's default.
var KnativeConfig = map[string]map[string]string{
	// Scale to zero in seconds, not minutes: the shortest windows Knative accepts.
	"config-autoscaler": {"stable-window": "6s", "scale-to-zero-grace-period": "6s"},
	// The queue-proxy image of the release; tags are not resolved to digests (no registry is
	// reachable here, as in an air-gapped install, which lists its registries the same way).
	"config-deployment": {
		"queue-sidecar-image":               "gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.15.2",
		"registries-skipping-tag-resolving": "kind.local,ko.local,dev.local,docker.io,index.docker.io,gcr.io,docker.hops.works,kserve",
	},
	// The network layer whose status the KIngress stand-in reports: Kourier's class.
	"config-network": {"ingress-class": IngressClass},
}

// startKnative runs Knative Serving's controller, webhook and autoscaler as a release installs
// them (their CRDs are installed with the control plane): its ConfigMaps with KnativeConfig,
// its webhooks (registered through a Service, as released; the Service is an ExternalName to
// this machine, there being no Service network here), and the activator's Deployment and
// Service, whose pods KWOK runs so that a ServerlessService in proxy mode has the endpoints a
// real cluster gives it (the activator itself is data plane: it does not run). The network
// layer is the stand-ins of knativenet.go. Each process gets free ports for what it serves;
// the health probes' port through KNATIVE_HEALTH_PROBES_PORT, which the build adds
// (hack/provision-living-cluster.sh).
func (l *Living) startKnative(bin string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	kdir := filepath.Join(bin, "knative")
	if _, err := l.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: KnativeNamespace,
		Labels: map[string]string{"app.kubernetes.io/name": "knative-serving"}}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := l.Kube.CoreV1().ServiceAccounts(KnativeNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "activator"}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(kdir, "config", "*.yaml"))
	if err != nil {
		return err
	}
	files = append(files, filepath.Join(kdir, "webhooks", "secret.yaml"), filepath.Join(kdir, "activator.yaml"))
	for _, f := range files {
		if err := l.createDocs(ctx, f, knativeConfigured); err != nil {
			return err
		}
	}
	if err := l.standInClients(); err != nil {
		return err
	}
	network, err := l.startNetwork()
	if err != nil {
		return err
	}
	l.startIngressStandIn()
	// The autoscaler's stats server binds :8080 (Knative's code fixes it): one living cluster
	// on a machine at a time.
	ln, err := net.Listen("tcp", ":8080")
	if err != nil {
		return fmt.Errorf("port 8080, which Knative's autoscaler binds, is taken (is another living cluster or sandbox running?): %v", err)
	}
	ln.Close()
	var ports [9]int
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return err
		}
	}
	if err := l.registerKnativeWebhooks(ctx, kdir, ports[0]); err != nil {
		return err
	}
	parts := []struct {
		name string
		env  []string
	}{
		{"webhook", []string{"WEBHOOK_NAME=webhook", "WEBHOOK_PORT=" + strconv.Itoa(ports[0]), "METRICS_DOMAIN=knative.dev/internal/serving",
			"KNATIVE_HEALTH_PROBES_PORT=" + strconv.Itoa(ports[7])}},
		{"controller", []string{"METRICS_DOMAIN=knative.dev/internal/serving", "KNATIVE_HEALTH_PROBES_PORT=" + strconv.Itoa(ports[8])}},
		// The autoscaler scrapes each pod's queue-proxy and probes the activator over the
		// cluster network: here, through the network stand-in (loopback is never proxied, so
		// the API server is reached directly).
		// Its pod's address goes into the Endpoints of its buckets' leases, which refuse
		// loopback: an address outside KWOK's pod range, which only another autoscaler
		// replica would dial (there is one).
		{"autoscaler", []string{"METRICS_DOMAIN=knative.dev/serving", "POD_IP=10.0.255.1", "HTTP_PROXY=" + network, "http_proxy=" + network}},
	}
	for i, p := range parts {
		env := append([]string{"SYSTEM_NAMESPACE=" + KnativeNamespace, "POD_NAME=" + p.name + "-0", "CONFIG_LOGGING_NAME=config-logging",
			"CONFIG_OBSERVABILITY_NAME=config-observability", "METRICS_PROMETHEUS_HOST=127.0.0.1",
			"METRICS_PROMETHEUS_PORT=" + strconv.Itoa(ports[1+2*i]), "PROFILING_PORT=" + strconv.Itoa(ports[2+2*i])}, p.env...)
		if err := l.run(env, filepath.Join(bin, "knative-"+p.name), "--kubeconfig", l.Kubeconfig); err != nil {
			return err
		}
	}
	return l.awaitKnativeWebhook(ctx)
}

// knativeConfigured applies KnativeConfig to a ConfigMap of the release, and keeps every
// document.
func knativeConfigured(u *unstructured.Unstructured) bool {
	if u.GetKind() != "ConfigMap" {
		return true
	}
	data, _, _ := unstructured.NestedStringMap(u.Object, "data")
	if data == nil {
		data = map[string]string{}
	}
	for k, v := range KnativeConfig[u.GetName()] {
		data[k] = v
	}
	_ = unstructured.SetNestedStringMap(u.Object, data, "data")
	return true
}

// createDocs creates every document of a manifest that keep accepts (it may change it), in
// the Knative namespace unless the document names another.
func (l *Living) createDocs(ctx context.Context, path string, keep func(*unstructured.Unstructured) bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, doc := range bytes.Split(b, []byte("\n---")) {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if u.Object == nil || u.GetKind() == "" || !keep(u) {
			continue
		}
		gvr, namespaced, err := l.resourceOf(u.GroupVersionKind())
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		var created error
		if namespaced {
			if u.GetNamespace() == "" {
				u.SetNamespace(KnativeNamespace)
			}
			_, created = l.Dyn.Resource(gvr).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{})
		} else {
			_, created = l.Dyn.Resource(gvr).Create(ctx, u, metav1.CreateOptions{})
		}
		if created != nil {
			return fmt.Errorf("%s: %s %s: %v", path, u.GetKind(), u.GetName(), created)
		}
	}
	return nil
}

// resourceOf finds a kind's resource through discovery.
func (l *Living) resourceOf(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
	list, err := l.Kube.Discovery().ServerResourcesForGroupVersion(gvk.GroupVersion().String())
	if err != nil {
		return schema.GroupVersionResource{}, false, err
	}
	for _, r := range list.APIResources {
		if r.Kind == gvk.Kind {
			return gvk.GroupVersion().WithResource(r.Name), r.Namespaced, nil
		}
	}
	return schema.GroupVersionResource{}, false, fmt.Errorf("no resource for %s", gvk)
}

// registerKnativeWebhooks creates the webhook Service, an ExternalName to this machine (the
// API server resolves a webhook's Service to it), and the release's webhook configurations
// pointed at the webhook's port; the webhook itself fills in their certificates and rules.
func (l *Living) registerKnativeWebhooks(ctx context.Context, kdir string, port int) error {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "webhook", Namespace: KnativeNamespace},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost",
			Ports: []corev1.ServicePort{{Name: "https-webhook", Port: int32(port)}}}}
	if _, err := l.Kube.CoreV1().Services(KnativeNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return err
	}
	for _, f := range []string{"defaulting.yaml", "resource-validation.yaml", "configmap-validation.yaml"} {
		err := l.createDocs(ctx, filepath.Join(kdir, "webhooks", f), func(u *unstructured.Unstructured) bool {
			hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
			for _, h := range hooks {
				_ = unstructured.SetNestedField(h.(map[string]any), int64(port), "clientConfig", "service", "port")
			}
			_ = unstructured.SetNestedSlice(u.Object, hooks, "webhooks")
			return true
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// awaitKnativeWebhook waits until the webhook defaults and validates a Knative Service (a
// dry run: nothing is created).
func (l *Living) awaitKnativeWebhook(ctx context.Context) error {
	gvr := schema.GroupVersionResource{Group: "serving.knative.dev", Version: "v1", Resource: "services"}
	probe := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "serving.knative.dev/v1", "kind": "Service",
		"metadata": map[string]any{"name": "webhook-probe", "namespace": "default"},
		"spec":     map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": "example.invalid/probe:1"}}}}}}}
	for {
		_, err := l.Dyn.Resource(gvr).Namespace("default").Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the Knative webhook did not answer (%v); its log ends:\n%s", err, l.logTail("knative-webhook"))
		case <-time.After(250 * time.Millisecond):
		}
	}
}
