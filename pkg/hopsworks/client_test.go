package hopsworks

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/hopsworkstest"
)

func newStandIn(t *testing.T) (*hopsworkstest.StandIn, string) {
	s := &hopsworkstest.StandIn{SigningKey: []byte("0123456789abcdef0123456789abcdef"), TokenTTL: time.Minute,
		Projects: map[string]hopsworkstest.Project{"alpha": {ID: 11, Servings: map[string]string{"oldfraud": "Stopped"}}, "beta": {ID: 12},
			"Mixed_Case": {ID: 13, Namespace: "team-x"}},
		Variables: map[string]string{"service_discovery_domain": "hopsworks.consul"},
		Keys: map[string]hopsworkstest.Key{
			"good":        {Projects: map[string]string{"alpha": hopsworkstest.DataScientist, "Mixed_Case": hopsworkstest.DataOwner}, Scopes: hopsworkstest.UserScopes},
			"projectonly": {Projects: map[string]string{"alpha": hopsworkstest.DataScientist}, Scopes: []string{hopsworkstest.ScopeProject}},
			"pythonlibs":  {Projects: map[string]string{"alpha": hopsworkstest.DataScientist}, Scopes: []string{hopsworkstest.ScopeProject, hopsworkstest.ScopePythonLibraries}},
			"noscope":     {Projects: map[string]string{"alpha": hopsworkstest.DataScientist}}}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func client(t *testing.T, url, key string) *Client {
	c, err := NewClient(Settings{URL: url, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func TestProjectTokenAndDiscovery(t *testing.T) {
	s, url := newStandIn(t)
	c := client(t, url, "good")
	ctx := context.Background()
	p := NewProjectToken(c, "alpha")
	tok, err := p.Token(ctx)
	if err != nil || strings.Count(tok, ".") != 2 {
		t.Fatalf("token %q %v", tok, err)
	}
	if again, _ := p.Token(ctx); again != tok || s.Tokens.Load() != 1 {
		t.Errorf("a second Token fetched again (%d)", s.Tokens.Load())
	}
	if got := p.Who(); got != "project alpha as data_scientist" {
		t.Errorf("Who: %q", got)
	}
	// Renewing a stale token fetches once; renewing it again (another slice saw the same
	// 401) hands out the new one without a call.
	time.Sleep(1100 * time.Millisecond) // iat is in seconds: a new token differs
	fresh, err := p.Renew(ctx, tok)
	if err != nil || fresh == tok {
		t.Fatalf("renew: %v (same token: %v)", err, fresh == tok)
	}
	if again, _ := p.Renew(ctx, tok); again != fresh || s.Tokens.Load() != 2 {
		t.Errorf("a renewal of an already renewed token called Hopsworks (%d tokens)", s.Tokens.Load())
	}
	if n := s.Calls("project/getProjectInfo"); n != 1 {
		t.Errorf("project looked up %d times, want once", n)
	}

	// The in-cluster name is used only where it resolves.
	var looked string
	c.resolve = func(_ context.Context, host string) ([]string, error) {
		looked = host
		return []string{"10.0.0.9"}, nil
	}
	u, err := c.OpenSearchURL(ctx)
	if err != nil || u != "https://rest.elastic.service.hopsworks.consul:9200" || looked != "rest.elastic.service.hopsworks.consul" {
		t.Errorf("service discovery: %q %v (looked up %q)", u, err, looked)
	}
	c.resolve = func(context.Context, string) ([]string, error) { return nil, errors.New("no such host") }
	if _, err := c.OpenSearchURL(ctx); err == nil || !strings.Contains(err.Error(), "loadbalancer_external_domain_opensearch") || !strings.Contains(err.Error(), "--opensearch-url") {
		t.Errorf("an in-cluster name that does not resolve: %v", err)
	}
	s.Variables["loadbalancer_external_domain_opensearch"] = "os.example.com"
	if u, _ := c.OpenSearchURL(ctx); u != "https://os.example.com:9200" {
		t.Errorf("load balancer: %q", u)
	}
	s.Variables["loadbalancer_external_domain_opensearch"] = "localhost:19251"
	if u, _ := c.OpenSearchURL(ctx); u != "https://localhost:19251" {
		t.Errorf("a domain with a port: %q", u)
	}
	s.Variables = nil
	if _, err := c.OpenSearchURL(ctx); err == nil || !strings.Contains(err.Error(), "--opensearch-url") {
		t.Errorf("no variable: %v", err)
	}
}

func TestErrorsAreToldApart(t *testing.T) {
	_, url := newStandIn(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, key, project string
		kind               Kind
		says               string
	}{
		{"wrong key", "wrong", "alpha", BadKey, "refused the API key (401)"},
		{"no scope", "noscope", "alpha", MissingScope, "lacks the PROJECT scope"},
		{"a PROJECT-only key", "projectonly", "alpha", MissingScope, "lacks the FEATURESTORE or PYTHON_LIBRARIES scope"},
		{"not a member", "good", "beta", NotMember, `not a member of project "beta"`},
		{"no such project", "good", "gamma", UnknownProject, `knows no project "gamma" (404)`},
		{"a name in another case", "good", "mixed_case", UnknownProject, `knows no project "mixed_case"`},
	} {
		_, err := NewProjectToken(client(t, url, tc.key), tc.project).Token(ctx)
		if kindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v (kind %d)", tc.name, err, kindOf(err))
		}
		if err != nil && strings.Contains(err.Error(), tc.key) && tc.key != "good" {
			t.Errorf("%s: the key is in the error", tc.name)
		}
	}
	_, err := NewProjectToken(client(t, "http://127.0.0.1:1", "good"), "alpha").Token(ctx)
	if kindOf(err) != Unreachable || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("unreachable: %v", err)
	}
	for _, s := range []Settings{{URL: "ftp://x", APIKey: "k"}, {URL: "https://user:pw@h", APIKey: "k"}, {URL: "https://h"}} {
		if _, err := NewClient(s); err == nil || strings.Contains(err.Error(), "pw") {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

// A key with PYTHON_LIBRARIES instead of FEATURESTORE gets the token too; a mixed-case
// project is found by its exact name; a deployment is found, or not, by name (SERVING).
func TestScopesProjectsAndServings(t *testing.T) {
	_, url := newStandIn(t)
	ctx := context.Background()
	if _, err := NewProjectToken(client(t, url, "pythonlibs"), "alpha").Token(ctx); err != nil {
		t.Errorf("PYTHON_LIBRARIES: %v", err)
	}
	c := client(t, url, "good")
	if id, err := c.ProjectID(ctx, "Mixed_Case"); err != nil || id != 13 {
		t.Errorf("a mixed-case project: %d %v", id, err)
	}
	ps, err := c.Projects(ctx)
	if err != nil || len(ps) != 2 {
		t.Fatalf("projects: %+v %v", ps, err)
	}
	for _, p := range ps {
		if p.Name == "Mixed_Case" && (p.ID != 13 || p.Namespace != "team-x") {
			t.Errorf("a project with its own namespace: %+v", p)
		}
	}
	if st, found, err := c.Serving(ctx, "alpha", 11, "oldfraud"); err != nil || !found || st != "Stopped" {
		t.Errorf("a stopped deployment: %q %v %v", st, found, err)
	}
	if _, found, err := c.Serving(ctx, "alpha", 11, "gone"); err != nil || found {
		t.Errorf("a deleted deployment: %v %v", found, err)
	}
	if _, _, err := client(t, url, "projectonly").Serving(ctx, "alpha", 11, "oldfraud"); kindOf(err) != MissingScope || !strings.Contains(err.Error(), "SERVING") {
		t.Errorf("without SERVING: %v", err)
	}
	if _, _, err := c.Serving(ctx, "beta", 12, "x"); kindOf(err) != NotMember {
		t.Errorf("a deployment of another project: %v", err)
	}
}

func TestClaimsForMessagesOnly(t *testing.T) {
	for tok, want := range map[string][2]string{
		"a.eyJzdWIiOiJhbHBoYSIsInJvbGVzIjpbImRhdGFfb3duZXIiXX0.c":        {"alpha", "data_owner"},
		"Bearer a.eyJzdWIiOiJhbHBoYSIsInJvbGVzIjpbImRhdGFfb3duZXIiXX0.c": {"alpha", "data_owner"},
		"not a jwt": {"", ""},
		"a.!!!.c":   {"", ""},
	} {
		if sub, roles := claims(tok); sub != want[0] || roles != want[1] {
			t.Errorf("%q: %q %q", tok, sub, roles)
		}
	}
}
