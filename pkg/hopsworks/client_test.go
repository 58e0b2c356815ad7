package hopsworks

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	standin "github.com/hopsdeploy/kubectl-hopsdeploy/test/hopsworks"
)

func newStandIn(t *testing.T) (*standin.StandIn, string) {
	s := &standin.StandIn{SigningKey: []byte("0123456789abcdef0123456789abcdef"), TokenTTL: time.Minute,
		Projects:  map[string]int{"alpha": 11, "beta": 12},
		Variables: map[string]string{"service_discovery_domain": "hopsworks.consul"},
		Keys: map[string]standin.Key{"good": {Projects: map[string]string{"alpha": "data_scientist"}},
			"noscope": {NoProjectScope: true}}}
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

	u, err := c.OpenSearchURL(ctx)
	if err != nil || u != "https://rest.elastic.service.hopsworks.consul:9200" {
		t.Errorf("service discovery: %q %v", u, err)
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
		{"no scope", "noscope", "alpha", MissingScope, "PROJECT scope"},
		{"not a member", "good", "beta", UnknownProject, `knows no project "beta"`},
		{"no such project", "good", "gamma", UnknownProject, `knows no project "gamma"`},
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
