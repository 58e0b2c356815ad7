// Command hopsdeploy-sandbox runs the local sandbox that `make sandbox` and `make demo` use:
// the living cluster of testenv.NewLiving (the real etcd, kube-apiserver, kube-scheduler,
// kube-controller-manager and KServe controller, KWOK for nodes and kubelets), whose
// kubelets serve container logs from files:
//
//	<dir>/logs/<namespace>/<pod>/<container>.log           one line each: "<RFC3339Nano> <message>"
//	<dir>/logs/<namespace>/<pod>/<container>.previous.log  the previous instance
//
// A line appended to a file while a client follows streams through. Demos, benchmarks and
// other tools inject logs by writing these files.
//
//	hopsdeploy-sandbox up --dir .sandbox          runs until SIGTERM/SIGINT; writes <dir>/kubeconfig
//	hopsdeploy-sandbox seed --dir .sandbox ...    creates the demo deployments, logs and history
//	hopsdeploy-sandbox hopsworks --dir .sandbox   serves the Hopsworks REST stand-in (test/hopsworks)
//	                                              for the secured OpenSearch, until SIGTERM/SIGINT
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/hopsworkstest"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/kwoklogs"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: hopsdeploy-sandbox up|seed [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(os.Args[2:])
	case "seed":
		err = seed(os.Args[2:])
	case "hopsworks":
		err = serveHopsworks(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: use up, seed or hopsworks", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	dir := fs.String("dir", ".sandbox", "sandbox folder")
	_ = fs.Parse(args)
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	logs := filepath.Join(abs, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	bin := os.Getenv("HOPSDEPLOY_LIVING_ASSETS")
	if bin == "" {
		return fmt.Errorf("HOPSDEPLOY_LIVING_ASSETS is not set: start the sandbox with `make sandbox`, which builds the living cluster's parts")
	}
	// The parts' own logs and state: kept for a look after a failure, replaced at each start.
	parts := filepath.Join(abs, "living")
	_ = os.RemoveAll(parts)
	if err := os.MkdirAll(parts, 0o755); err != nil {
		return err
	}
	e, err := testenv.NewLiving(bin, parts, logs)
	if err != nil {
		return err
	}
	defer e.Stop()
	b, err := os.ReadFile(e.Kubeconfig)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(abs, "kubeconfig"), b, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(abs, "ready"), []byte(e.Config.Host+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("sandbox API server %s, logs under %s\n", e.Config.Host, logs)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	os.Remove(filepath.Join(abs, "ready"))
	return nil
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dir := fs.String("dir", ".sandbox", "sandbox folder")
	ns := fs.String("namespace", "demo", "project namespace to create the deployments in")
	osURL := fs.String("opensearch", "", "OpenSearch URL for history documents (optional)")
	securedDir := fs.String("secured-opensearch", "", "run folder of the OpenSearch with the security plugin, to load the history into too (optional)")
	_ = fs.Parse(args)
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(*dir, "kubeconfig"))
	if err != nil {
		return err
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := fixtures.EnsureNamespace(ctx, kc, *ns, map[string]string{"hopsworks.ai/project": *ns}); err != nil {
		return err
	}
	w := kwoklogs.Writer{Root: filepath.Join(*dir, "logs")}
	if err := fixtures.SeedLivingDemo(ctx, kc, dc, w, *ns, os.Stdout); err != nil {
		return err
	}
	if *osURL != "" {
		docs := fixtures.History(*ns, time.Now())
		if err := testenv.BulkLoad(*osURL, docs); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		fmt.Printf("loaded %d history documents into %s\n", len(docs), docs[0].Project+"_serving-*")
	}
	if *securedDir != "" {
		sec, err := testenv.OpenSecured(*securedDir)
		if err != nil {
			return err
		}
		// Another project's line too: a demo member of this project is refused it (403).
		docs := append(fixtures.History(*ns, time.Now()), fixtures.LogDoc{Timestamp: time.Now().Add(-time.Hour), Message: "a line of another project",
			Serving: "ledger", Component: "predictor", Container: "kserve-container", Project: "payments", Host: "worker-9"})
		if err := sec.Load(docs); err != nil {
			return fmt.Errorf("history into the secured OpenSearch: %w", err)
		}
		fmt.Printf("loaded %d history documents into %s of the secured OpenSearch\n", len(docs), docs[0].Project+"_serving-*")
	}
	return nil
}

// serveHopsworks runs the Hopsworks REST stand-in over TLS (a certificate of the secured
// OpenSearch's CA): the API key in <dir>/hopsworks-api-key is a data scientist (most users'
// role) of each --project, with the scopes the README asks for; Hopsworks' database knows the
// deployments that the seeded history stopped (fixtures.StoppedInHopsworks), not the one it
// deleted; OpenSearch is where the secured one listens.
func serveHopsworks(args []string) error {
	fs := flag.NewFlagSet("hopsworks", flag.ExitOnError)
	dir := fs.String("dir", ".sandbox", "sandbox folder")
	addr := fs.String("listen", "127.0.0.1:19262", "address to serve on")
	projects := fs.String("projects", "demo", "comma-separated project names, of which the key's user is a data scientist")
	_ = fs.Parse(args)
	sec, err := testenv.OpenSecured(filepath.Join(*dir, "opensearch-secured"))
	if err != nil {
		return err
	}
	key, err := os.ReadFile(filepath.Join(*dir, "hopsworks-api-key"))
	if err != nil {
		return err
	}
	cert, err := sec.HopsworksCert()
	if err != nil {
		return err
	}
	u, err := url.Parse(sec.LocalURL)
	if err != nil {
		return err
	}
	member := hopsworkstest.Key{Projects: map[string]string{}, Scopes: hopsworkstest.UserScopes}
	known := map[string]hopsworkstest.Project{}
	for i, p := range strings.Split(*projects, ",") {
		member.Projects[p] = hopsworkstest.DataScientist
		known[p] = hopsworkstest.Project{ID: 100 + i, Servings: fixtures.StoppedInHopsworks()}
	}
	// Another project, of which the key's user is not a member.
	known["payments"] = hopsworkstest.Project{ID: 99}
	standIn := &hopsworkstest.StandIn{SigningKey: sec.JWTKey, TokenTTL: 10 * time.Minute, Projects: known,
		Variables: map[string]string{"loadbalancer_external_domain_opensearch": u.Host},
		Keys:      map[string]hopsworkstest.Key{strings.TrimSpace(string(key)): member}}
	srv := &http.Server{Addr: *addr, Handler: standIn, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		_ = srv.Close()
	}()
	fmt.Printf("Hopsworks REST stand-in on https://%s (projects %s)\n", *addr, *projects)
	if err := srv.ListenAndServeTLS("", ""); err != http.ErrServerClosed {
		return err
	}
	return nil
}
