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
	MissingScope                   // 403: the key lacks a scope the call needs
	UnknownProject                 // no such project, or the key's user is not a member
	Failed                         // any other error answer
)

// Error is a Hopsworks failure in one line that never holds the API key.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Settings say how to reach Hopsworks. The API key comes from the environment or a file,
// never from a flag value.
type Settings struct {
	URL        string
	APIKey     string `json:"-"`
	APIKeyFile string
	// CAFile is the Hopsworks CA chain: it signs the REST endpoint and OpenSearch alike, so it
	// also verifies OpenSearch when no OpenSearch CA is given.
	CAFile  string
	Timeout time.Duration
}

// Configured says whether Hopsworks is the credential source.
func (s Settings) Configured() bool { return s.URL != "" }

// maxAnswer bounds a Hopsworks answer held in memory: the calls made here answer in bytes.
const maxAnswer = 1 << 20

// Client calls the Hopsworks REST API with a user's API key.
type Client struct {
	base   string // https://host[:port], no trailing slash
	apiKey string
	http   *http.Client
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
			return nil, err
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	base := strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/")
	return &Client{base: base, apiKey: s.APIKey, http: &http.Client{Transport: tr, Timeout: timeout,
		// A redirect could carry the key elsewhere: Hopsworks' API does not redirect.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// LoadCA reads a PEM bundle into a pool.
func LoadCA(path, what string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Kind: Failed, Msg: fmt.Sprintf("cannot read %s %s: %v", what, path, err)}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &Error{Kind: Failed, Msg: fmt.Sprintf("%s %s holds no PEM certificate", what, path)}
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

// refused turns an error answer into an Error naming the call.
func (c *Client) refused(status int, re *restError, what string) error {
	reason := strings.TrimSpace(re.ErrorMsg)
	if re.UsrMsg != "" {
		reason += ": " + strings.TrimSpace(re.UsrMsg)
	}
	if reason != "" {
		reason = " (" + term.Clip(reason, 200) + ")"
	}
	switch status {
	case http.StatusUnauthorized:
		return &Error{Kind: BadKey, Msg: fmt.Sprintf("Hopsworks at %s refused the API key (401)%s: check HOPSWORKS_API_KEY or --hopsworks-api-key-file; a key can expire or be revoked", c.base, reason)}
	case http.StatusForbidden:
		return &Error{Kind: MissingScope, Msg: fmt.Sprintf("Hopsworks at %s forbids %s to this API key (403)%s: the key needs the PROJECT scope, and its user must be a member of the project", c.base, what, reason)}
	}
	return &Error{Kind: Failed, Msg: fmt.Sprintf("Hopsworks at %s answered %d to %s%s", c.base, status, what, reason)}
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

// ProjectID returns the id of the project of that name, as Hopsworks' client finds it
// (GET project/getProjectInfo/{name}).
func (c *Client) ProjectID(ctx context.Context, project string) (int, error) {
	var out struct {
		ProjectID   int    `json:"projectId"`
		ProjectName string `json:"projectName"`
	}
	status, re, err := c.get(ctx, "project/getProjectInfo/"+url.PathEscape(project), &out)
	switch {
	case err != nil:
		return 0, err
	case re != nil && (status == http.StatusNotFound || status == http.StatusBadRequest || re.ErrorCode == 150004):
		return 0, &Error{Kind: UnknownProject, Msg: fmt.Sprintf("Hopsworks at %s knows no project %q that this API key's user is a member of: check --project (or the namespace's hopsworks.ai/project label)", c.base, project)}
	case re != nil:
		return 0, c.refused(status, re, fmt.Sprintf("reading the project %q", project))
	case out.ProjectID == 0:
		return 0, &Error{Kind: Failed, Msg: fmt.Sprintf("Hopsworks at %s answered no project id for %q", c.base, project)}
	}
	return out.ProjectID, nil
}

// OpenSearchToken returns the project's OpenSearch JWT for the key's user
// (GET elastic/jwt/{projectId}): short-lived, to be renewed when OpenSearch refuses it.
func (c *Client) OpenSearchToken(ctx context.Context, projectID int) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	what := fmt.Sprintf("the OpenSearch token of project %d", projectID)
	status, re, err := c.get(ctx, fmt.Sprintf("elastic/jwt/%d", projectID), &out)
	switch {
	case err != nil:
		return "", err
	case re != nil:
		return "", c.refused(status, re, what)
	case out.Token == "":
		return "", &Error{Kind: Failed, Msg: fmt.Sprintf("Hopsworks at %s handed out an empty OpenSearch token: is OpenSearch's JWT authentication enabled in Hopsworks?", c.base)}
	}
	return out.Token, nil
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
		return "", false, c.refused(status, re, "reading the variable "+name)
	}
	return out.SuccessMessage, out.SuccessMessage != "", nil
}

// OpenSearchPort is the port Hopsworks' client puts after the host it is given.
const OpenSearchPort = "9200"

// OpenSearchURL finds OpenSearch as Hopsworks' client does from outside the cluster: the
// load balancer's external domain for OpenSearch, else the service discovery domain
// (rest.elastic.service.<domain>), on port 9200. A domain given with a port keeps it.
func (c *Client) OpenSearchURL(ctx context.Context) (string, error) {
	if d, ok, err := c.Variable(ctx, "loadbalancer_external_domain_opensearch"); err != nil {
		return "", err
	} else if ok {
		return hostURL(d), nil
	}
	if d, ok, err := c.Variable(ctx, "service_discovery_domain"); err != nil {
		return "", err
	} else if ok {
		return hostURL("rest.elastic.service." + d), nil
	}
	return "", &Error{Kind: Failed, Msg: fmt.Sprintf("Hopsworks at %s does not say where OpenSearch is (neither loadbalancer_external_domain_opensearch nor service_discovery_domain is set): pass --opensearch-url", c.base)}
}

func hostURL(host string) string {
	host = strings.TrimSpace(host)
	if _, _, err := net.SplitHostPort(host); err == nil {
		return "https://" + host
	}
	return "https://" + net.JoinHostPort(host, OpenSearchPort)
}
