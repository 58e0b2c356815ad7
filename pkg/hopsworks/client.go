// Package hopsworks reaches the few Hopsworks REST calls that let a Hopsworks user read
// history with nothing but an API key: the project's id, the project's OpenSearch token, and
// the variables that say where OpenSearch is. It does what Hopsworks' own Python client
// does (see docs/architecture.md, "History with Hopsworks credentials").
package hopsworks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
)

// Kind tells Hopsworks failures apart, for exit codes.
type Kind int

const (
	Unreachable    Kind = iota + 1 // connection refused, timeout, DNS, TLS
	BadKey                         // 401: the API key is wrong, expired or revoked
	MissingScope                   // 403 (320004): the key lacks a scope the call needs
	UnknownProject                 // 404 (150004): no project of that name or id
	Failed                         // any other error answer
	NotMember                      // 403 (160000, NO_ROLE_FOUND): the key's user is not a member of the project
)

// Hopsworks' error codes (RESTCodes) that the plugin tells apart.
const (
	codeProjectNotFound = 150004 // ProjectErrorCode.PROJECT_NOT_FOUND
	codeNoRoleFound     = 160000 // UserErrorCode.NO_ROLE_FOUND
	codeNoValidScope    = 320004 // ApiKeyErrorCode.KEY_SCOPE_CONTROL_EXCEPTION
	codeServingNotFound = 240000 // ServingErrorCode.INSTANCE_NOT_FOUND
)

// The API key scopes of the calls made here (each call's @ApiKeyRequired in Hopsworks).
const (
	scopesProject = "PROJECT"
	scopesToken   = "FEATURESTORE or PYTHON_LIBRARIES"
	scopesServing = "SERVING"
	// KeyScopes is what a user creates a key with to use every history path.
	KeyScopes = "PROJECT, FEATURESTORE and SERVING"
)

// Error is a Hopsworks failure in one line that never holds the API key.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// maxAnswer bounds a Hopsworks answer held in memory: the calls made here answer in bytes.
const maxAnswer = 1 << 20

// Client calls the Hopsworks REST API with a user's API key.
type Client struct {
	base   string // https://host[:port], no trailing slash
	apiKey string
	http   *http.Client
	// resolve looks a host name up (the system's resolver; a test's own).
	resolve func(ctx context.Context, host string) ([]string, error)
}

// NewClient checks the settings and builds a client; it calls nothing yet.
func NewClient(s Settings) (*Client, error) {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Kind: Failed, Msg: fmt.Sprintf("invalid Hopsworks URL %q: use https://host[:port]", term.RedactURL(s.URL))}
	}
	if u.User != nil {
		return nil, &Error{Kind: Failed, Msg: fmt.Sprintf("the Hopsworks URL %s carries credentials: remove them and put the API key in HOPSWORKS_API_KEY or --hopsworks-api-key-file", term.RedactURL(s.URL))}
	}
	if s.APIKey == "" {
		return nil, &Error{Kind: BadKey, Msg: fmt.Sprintf("no Hopsworks API key for %s: set HOPSWORKS_API_KEY or pass --hopsworks-api-key-file (create a key in Hopsworks under Account settings > API keys)", term.RedactURL(s.URL))}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CAFile != "" {
		pool, err := LoadCA(s.CAFile, "--hopsworks-ca")
		if err != nil {
			return nil, &Error{Kind: Failed, Msg: err.Error()}
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	base := strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/")
	return &Client{base: base, apiKey: s.APIKey, resolve: net.DefaultResolver.LookupHost, http: &http.Client{Transport: tr, Timeout: timeout,
		// A redirect could carry the key elsewhere: Hopsworks' API does not redirect.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// LoadCA reads a PEM bundle into a pool: the one CA loader, for Hopsworks and OpenSearch
// alike; what names the setting in the error (--hopsworks-ca, --opensearch-ca).
func LoadCA(path, what string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s %s: %v", what, path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %s holds no PEM certificate", what, path)
	}
	return pool, nil
}

// URL is the Hopsworks address, for messages.
func (c *Client) URL() string { return c.base }

// restError is the body of a Hopsworks error answer.
type restError struct {
	ErrorCode int    `json:"errorCode"`
	ErrorMsg  string `json:"errorMsg"`
	UsrMsg    string `json:"usrMsg"`
}

// get calls GET /hopsworks-api/api/<path> and decodes the answer into out. what names the
// call in errors ("the project alpha").
func (c *Client) get(ctx context.Context, path string, out any) (int, *restError, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/hopsworks-api/api/"+path, nil)
	if err != nil {
		return 0, nil, &Error{Kind: Failed, Msg: "Hopsworks request: " + err.Error()}
	}
	req.Header.Set("Authorization", "ApiKey "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, c.unreachable(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return resp.StatusCode, nil, c.unreachable(err)
	}
	if len(data) > maxAnswer {
		return resp.StatusCode, nil, &Error{Kind: Failed, Msg: fmt.Sprintf("Hopsworks at %s answered more than 1 MiB to %s: refusing to hold it", c.base, path)}
	}
	if resp.StatusCode >= 300 {
		var re restError
		_ = json.Unmarshal(data, &re)
		return resp.StatusCode, &re, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, nil, &Error{Kind: Failed, Msg: fmt.Sprintf("Hopsworks at %s answered %s with something that is not its JSON: %v", c.base, path, err)}
	}
	return resp.StatusCode, nil, nil
}

// call is one Hopsworks call, for errors: what it reads and the scopes it needs.
type call struct {
	what    string // "reading the project \"alpha\""
	project string // the project it is about, "" for none
	scopes  string
}

// refused turns an error answer into an Error naming the call and the fix.
func (c *Client) refused(status int, re *restError, k call) error {
	reason := strings.TrimSpace(re.ErrorMsg)
	if re.UsrMsg != "" {
		reason += ": " + strings.TrimSpace(re.UsrMsg)
	}
	if reason != "" {
		reason = " (" + term.Clip(reason, 200) + ")"
	}
	switch {
	case status == http.StatusUnauthorized:
		return &Error{Kind: BadKey, Msg: fmt.Sprintf("Hopsworks at %s refused the API key (401)%s: check HOPSWORKS_API_KEY or --hopsworks-api-key-file; a key can expire or be revoked", c.base, reason)}
	case status == http.StatusForbidden && re.ErrorCode == codeNoValidScope:
		return &Error{Kind: MissingScope, Msg: fmt.Sprintf("Hopsworks at %s forbids %s to this API key (403)%s: the key lacks the %s scope; create a key with the scopes %s (Account settings > API keys)", c.base, k.what, reason, k.scopes, KeyScopes)}
	case status == http.StatusForbidden && re.ErrorCode == codeNoRoleFound:
		return &Error{Kind: NotMember, Msg: fmt.Sprintf("Hopsworks at %s: this API key's user is not a member of project %q (403)%s: ask a data owner of the project to add you, or use --project for a project of yours", c.base, k.project, reason)}
	case status == http.StatusNotFound && re.ErrorCode == codeProjectNotFound && k.project != "":
		return &Error{Kind: UnknownProject, Msg: fmt.Sprintf("Hopsworks at %s knows no project %q (404): check --project (project names match exactly, case included)", c.base, k.project)}
	}
	return &Error{Kind: Failed, Msg: fmt.Sprintf("Hopsworks at %s answered %d to %s%s", c.base, status, k.what, reason)}
}

func (c *Client) unreachable(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ce *tls.CertificateVerificationError
	var he x509.HostnameError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &he):
		return &Error{Kind: Unreachable, Msg: fmt.Sprintf("Hopsworks at %s: its TLS certificate is not trusted (%s): pass the Hopsworks CA with --hopsworks-ca or HOPSWORKS_CA", c.base, term.Clip(err.Error(), 200))}
	case errors.As(err, &ne) && ne.Timeout():
		return &Error{Kind: Unreachable, Msg: fmt.Sprintf("Hopsworks at %s did not answer in time: check --hopsworks-url and --request-timeout", c.base)}
	}
	return &Error{Kind: Unreachable, Msg: fmt.Sprintf("Hopsworks at %s is unreachable (%s): check --hopsworks-url or HOPSWORKS_URL", c.base, term.Clip(err.Error(), 200))}
}

// Project is a project of the key's user, as Hopsworks names it.
type Project struct {
	ID   int
	Name string
	// Namespace is the project's own namespace (Hopsworks 4.1 and later), "" for the default.
	Namespace string
}

// ProjectInfo returns the project of that name, as Hopsworks' client finds it
// (GET project/getProjectInfo/{name}); the name matches exactly.
func (c *Client) ProjectInfo(ctx context.Context, project string) (Project, error) {
	var out struct {
		ProjectID   int    `json:"projectId"`
		ProjectName string `json:"projectName"`
		Namespace   string `json:"namespace"`
	}
	status, re, err := c.get(ctx, "project/getProjectInfo/"+url.PathEscape(project), &out)
	switch {
	case err != nil:
		return Project{}, err
	case re != nil:
		return Project{}, c.refused(status, re, call{what: fmt.Sprintf("reading the project %q", project), project: project, scopes: scopesProject})
	case out.ProjectID == 0:
		return Project{}, &Error{Kind: Failed, Msg: fmt.Sprintf("Hopsworks at %s answered no project id for %q", c.base, project)}
	}
	return Project{ID: out.ProjectID, Name: project, Namespace: out.Namespace}, nil
}

// ProjectID returns the id of the project of that name.
func (c *Client) ProjectID(ctx context.Context, project string) (int, error) {
	p, err := c.ProjectInfo(ctx, project)
	return p.ID, err
}

// Projects lists the projects the key's user is a member of (GET project).
func (c *Client) Projects(ctx context.Context) ([]Project, error) {
	var out []struct {
		Project struct {
			ID        int    `json:"id"`
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"project"`
	}
	status, re, err := c.get(ctx, "project", &out)
	switch {
	case err != nil:
		return nil, err
	case re != nil:
		return nil, c.refused(status, re, call{what: "listing your projects", scopes: scopesProject})
	}
	ps := make([]Project, 0, len(out))
	for _, p := range out {
		if p.Project.Name != "" {
			ps = append(ps, Project{ID: p.Project.ID, Name: p.Project.Name, Namespace: p.Project.Namespace})
		}
	}
	return ps, nil
}

// OpenSearchToken returns the project's OpenSearch JWT for the key's user
// (GET elastic/jwt/{projectId}): short-lived, to be renewed when OpenSearch refuses it.
func (c *Client) OpenSearchToken(ctx context.Context, project string, projectID int) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	status, re, err := c.get(ctx, fmt.Sprintf("elastic/jwt/%d", projectID), &out)
	switch {
	case err != nil:
		return "", err
	case re != nil:
		return "", c.refused(status, re, call{what: fmt.Sprintf("the OpenSearch token of project %q", project), project: project, scopes: scopesToken})
	case out.Token == "":
		return "", &Error{Kind: Failed, Msg: fmt.Sprintf("Hopsworks at %s handed out an empty OpenSearch token: is OpenSearch's JWT authentication enabled in Hopsworks?", c.base)}
	}
	return out.Token, nil
}

// Serving asks Hopsworks whether the project has a deployment of that name, as Hopsworks'
// client looks one up (GET project/{id}/serving?name=): its status when it has ("Stopped"),
// found false when Hopsworks answers that it has none (it was deleted, or never existed).
func (c *Client) Serving(ctx context.Context, project string, projectID int, name string) (status string, found bool, err error) {
	var out struct {
		Status string `json:"status"`
	}
	code, re, err := c.get(ctx, fmt.Sprintf("project/%d/serving?name=%s", projectID, url.QueryEscape(name)), &out)
	switch {
	case err != nil:
		return "", false, err
	case re != nil && code == http.StatusNotFound && re.ErrorCode == codeServingNotFound:
		return "", false, nil
	case re != nil:
		return "", false, c.refused(code, re, call{what: fmt.Sprintf("looking up the deployment %q", name), project: project, scopes: scopesServing})
	}
	return out.Status, true, nil
}

// Variable returns a Hopsworks variable's value; found is false when it is not set.
func (c *Client) Variable(ctx context.Context, name string) (value string, found bool, err error) {
	var out struct {
		SuccessMessage string `json:"successMessage"`
	}
	status, re, err := c.get(ctx, "variables/"+url.PathEscape(name), &out)
	switch {
	case err != nil:
		return "", false, err
	case re != nil && status == http.StatusNotFound:
		return "", false, nil
	case re != nil:
		return "", false, c.refused(status, re, call{what: "reading the variable " + name, scopes: scopesProject})
	}
	return out.SuccessMessage, out.SuccessMessage != "", nil
}

// OpenSearchPort is the port Hopsworks' client puts after the host it is given.
const OpenSearchPort = "9200"

// OpenSearchURL finds OpenSearch as Hopsworks' client does from outside the cluster: the
// load balancer's external domain for OpenSearch, on port 9200 (a domain given with a port
// keeps it). Without it, the in-cluster name rest.elastic.service.<service_discovery_domain>
// is used only where it resolves (inside the cluster's network); elsewhere the error names
// the variable to set and --opensearch-url.
func (c *Client) OpenSearchURL(ctx context.Context) (string, error) {
	const external = "loadbalancer_external_domain_opensearch"
	if d, ok, err := c.Variable(ctx, external); err != nil {
		return "", err
	} else if ok {
		return hostURL(d), nil
	}
	d, ok, err := c.Variable(ctx, "service_discovery_domain")
	if err != nil {
		return "", err
	}
	if !ok {
		return "", &Error{Kind: Failed, Msg: fmt.Sprintf("Hopsworks at %s does not say where OpenSearch is (%s is not set): pass --opensearch-url, or ask your Hopsworks admin to set %s", c.base, external, external)}
	}
	host := "rest.elastic.service." + strings.TrimSpace(d)
	if _, err := c.resolve(ctx, host); err != nil {
		return "", &Error{Kind: Failed, Msg: fmt.Sprintf("Hopsworks at %s names OpenSearch only by its in-cluster name %s, which does not resolve here (%s is not set): pass --opensearch-url with OpenSearch's external address", c.base, host, external)}
	}
	return hostURL(host), nil
}

func hostURL(host string) string {
	host = strings.TrimSpace(host)
	if _, _, err := net.SplitHostPort(host); err == nil {
		return "https://" + host
	}
	return "https://" + net.JoinHostPort(host, OpenSearchPort)
}
