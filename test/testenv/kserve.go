package testenv

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/certs"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// startKServe runs the real KServe controller as a release installs it, after Knative (it looks
// for Knative's CRDs when it starts): its inferenceservice-config (kserveConfig), its
// webhooks (the defaulter names kserve-container, the pod mutator injects storage-initializer)
// served on loopback with a certificate made here and registered by URL (no Service networking
// here), and the release's ClusterServingRuntimes.
func (l *Living) startKServe(bin string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	kdir := filepath.Join(bin, "kserve")
	if _, err := l.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kserve", Labels: map[string]string{"control-plane": "kserve-controller-manager"}}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	cm, err := kserveConfig(filepath.Join(kdir, "inferenceservice.yaml"))
	if err != nil {
		return err
	}
	if _, err := l.Kube.CoreV1().ConfigMaps("kserve").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return err
	}
	var ports [3]int
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return err
		}
	}
	port, probe, metrics := ports[0], ports[1], ports[2]
	caPEM, cert, err := certs.Serving()
	if err != nil {
		return err
	}
	if err := writeCert(filepath.Join(l.Dir, "k8s-webhook-server", "serving-certs"), cert); err != nil {
		return err
	}
	if err := l.registerWebhooks(ctx, filepath.Join(kdir, "manifests.yaml"), "https://127.0.0.1:"+strconv.Itoa(port), caPEM); err != nil {
		return err
	}
	if err := l.run([]string{"POD_NAMESPACE=kserve", "TMPDIR=" + l.Dir, "KUBECONFIG=" + l.Kubeconfig}, filepath.Join(bin, "kserve-manager"),
		"-metrics-addr=127.0.0.1:"+strconv.Itoa(metrics), "-health-probe-addr=127.0.0.1:"+strconv.Itoa(probe), "-webhook-port="+strconv.Itoa(port), "-leader-elect=false"); err != nil {
		return err
	}
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", probe))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				// Through the controller's own validating webhook, as kubectl apply would.
				return l.installRuntimes(ctx, filepath.Join(kdir, "runtimes"))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the KServe controller did not get ready; its log ends:\n%s", l.logTail("kserve-manager"))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// kserveConfig is KServe's own inferenceservice-config, its default deployment mode
// (Serverless, on Knative) kept, with the ingress configured for a Knative network layer
// other than Istio (Kourier's, whose status the KIngress stand-in reports): no Istio
// VirtualService (Istio does not run here), the local gateway Kourier's. Ingress creation stays
// on, as a real install has it: in Standard mode the controller creates the Ingress objects
// (nothing here routes them, which KServe does not check) and sets IngressReady.
func kserveConfig(path string) (*corev1.ConfigMap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{}
	if err := yaml.Unmarshal(b, cm); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	cm.Namespace = "kserve"
	var ingress map[string]any
	if err := json.Unmarshal([]byte(cm.Data["ingress"]), &ingress); err != nil {
		return nil, fmt.Errorf("%s: ingress: %v", path, err)
	}
	ingress["disableIstioVirtualHost"] = true
	ingress["localGatewayService"] = kourierInternal
	d, _ := json.Marshal(ingress)
	cm.Data["ingress"] = string(d)
	return cm, nil
}

// installRuntimes creates the ClusterServingRuntimes of a KServe release (config/runtimes),
// with the images its kustomization names (newName:newTag for each "<name>:replace").
func (l *Living) installRuntimes(ctx context.Context, dir string) error {
	k, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return err
	}
	var kust struct {
		Resources []string `json:"resources"`
		Images    []struct {
			Name    string `json:"name"`
			NewName string `json:"newName"`
			NewTag  string `json:"newTag"`
		} `json:"images"`
	}
	if err := yaml.Unmarshal(k, &kust); err != nil {
		return fmt.Errorf("%s: %v", dir, err)
	}
	var images []string
	for _, im := range kust.Images {
		images = append(images, "image: "+im.Name+":replace", "image: "+im.NewName+":"+im.NewTag)
	}
	replacer := strings.NewReplacer(images...)
	gvr := schema.GroupVersionResource{Group: "serving.kserve.io", Version: "v1alpha1", Resource: "clusterservingruntimes"}
	for _, f := range kust.Resources {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(replacer.Replace(string(b))), &u.Object); err != nil {
			return fmt.Errorf("%s: %v", f, err)
		}
		if _, err := l.Dyn.Resource(gvr).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("ClusterServingRuntime %s: %v", f, err)
		}
	}
	return nil
}

// writeCert writes a certificate into dir as tls.crt and tls.key, where controller-runtime
// and KWOK read them.
func writeCert(dir string, cert tls.Certificate) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}

// registerWebhooks creates KServe's webhook configurations, pointed at base by URL.
func (l *Living) registerWebhooks(ctx context.Context, path, base string, ca []byte) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, doc := range bytes.Split(b, []byte("\n---")) {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil || meta.Kind == "" {
			continue
		}
		switch meta.Kind {
		case "MutatingWebhookConfiguration":
			w := &admissionv1.MutatingWebhookConfiguration{}
			if err := yaml.Unmarshal(doc, w); err != nil {
				return err
			}
			for i := range w.Webhooks {
				w.Webhooks[i].ClientConfig = byURL(base, w.Webhooks[i].ClientConfig, ca)
			}
			if _, err := l.Kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, w, metav1.CreateOptions{}); err != nil {
				return err
			}
		case "ValidatingWebhookConfiguration":
			w := &admissionv1.ValidatingWebhookConfiguration{}
			if err := yaml.Unmarshal(doc, w); err != nil {
				return err
			}
			for i := range w.Webhooks {
				w.Webhooks[i].ClientConfig = byURL(base, w.Webhooks[i].ClientConfig, ca)
			}
			if _, err := l.Kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, w, metav1.CreateOptions{}); err != nil {
				return err
			}
		}
	}
	return nil
}

func byURL(base string, c admissionv1.WebhookClientConfig, ca []byte) admissionv1.WebhookClientConfig {
	path := ""
	if c.Service != nil && c.Service.Path != nil {
		path = *c.Service.Path
	}
	u := base + "/" + strings.TrimPrefix(path, "/")
	return admissionv1.WebhookClientConfig{URL: &u, CABundle: ca}
}
