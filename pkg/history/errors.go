package history

// OpenSearch failures: their kinds for exit codes, and one-line messages that name the fix.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"syscall"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/hopsworks"
	text "github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term" // "term" is the query builder here
	"github.com/opensearch-project/opensearch-go/v4"
)

// Kind tells OpenSearch failures apart, for exit codes.
type Kind int

const (
	Unreachable Kind = iota + 1 // connection refused, timeout, DNS
	Refused                     // 401: the credentials are wrong
	TLSFailure                  // certificate not trusted
	NoIndex                     // no index matches the pattern
	Failed                      // any other error answer
	Forbidden                   // 403: the credentials do not reach the index
)

// Error is an OpenSearch failure with a one-line explanation that never holds a secret.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// classify turns a client error into an *Error: OpenSearch's own answers by their error.type
// and status, transport failures by Go's error types. Words inside a server's message (a
// reason that mentions "x509:") never make it a TLS failure.
func (r *Reader) classify(err error, status int, index string) error {
	if err == nil {
		return nil
	}
	var own *Error
	if errors.As(err, &own) {
		return own
	}
	var hw *hopsworks.Error // fetching or renewing the token failed: Hopsworks' own error
	if errors.As(err, &hw) {
		return hw
	}
	var se *ServerError
	if errors.As(err, &se) {
		return r.classifyServer(se, index)
	}
	var ose *opensearch.StructError // the typed client's error answers
	if errors.As(err, &ose) {
		return r.classifyServer(&ServerError{Status: max(ose.Status, status), Type: ose.Err.Type, Reason: ose.Err.Reason}, index)
	}
	var ue *url.Error
	var ce x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var cv *tls.CertificateVerificationError
	var alert tls.AlertError
	var tlsRec tls.RecordHeaderError
	switch {
	case errors.As(err, &he):
		return &Error{Kind: TLSFailure, Msg: fmt.Sprintf("TLS with OpenSearch at %s failed: %s; name the host its certificate is for with --opensearch-tls-server-name (or, as Hopsworks' client does, --opensearch-tls-verify-chain-only)", r.url, tlsCause(err))}
	case errors.As(err, &ua) || errors.As(err, &ce) || errors.As(err, &cv) || errors.As(err, &alert):
		return &Error{Kind: TLSFailure, Msg: fmt.Sprintf("TLS with OpenSearch at %s failed: %s; trust its CA with --opensearch-ca FILE (or, knowing the risk, --opensearch-insecure-skip-verify)", r.url, tlsCause(err))}
	case errors.As(err, &tlsRec):
		return &Error{Kind: TLSFailure, Msg: fmt.Sprintf("OpenSearch at %s does not speak TLS: use an http:// URL", r.url)}
	case status == 401 || status == 403 || status == 404:
		return r.classifyServer(&ServerError{Status: status, Reason: err.Error()}, index)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		return &Error{Kind: Unreachable, Msg: fmt.Sprintf("OpenSearch at %s is unreachable: it closed the connection", r.url)}
	case errors.As(err, &ue) || isNetErr(err) || errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: Unreachable, Msg: fmt.Sprintf("OpenSearch at %s is unreachable: %s", r.url, netCause(err))}
	}
	return &Error{Kind: Failed, Msg: fmt.Sprintf("OpenSearch at %s answered with an error (%d): %s", r.url, status, clip(err.Error()))}
}

// classifyServer names an error answer of OpenSearch's.
func (r *Reader) classifyServer(se *ServerError, index string) error {
	switch {
	case se.HasType("search_context_missing_exception"):
		return &Error{Kind: Failed, Msg: fmt.Sprintf("OpenSearch at %s no longer holds the point in time of this read (search_context_missing_exception): the read paused longer than its keep-alive; run it again", r.url)}
	case se.HasType("index_not_found_exception") || se.Status == 404 && se.Type == "":
		return &Error{Kind: NoIndex, Msg: fmt.Sprintf("no OpenSearch index matches %s at %s: no history for this project (it is kept 7 days); use --index to name another", index, r.url)}
	case se.Status == 401 && r.tokens != nil:
		return &Error{Kind: Refused, Msg: fmt.Sprintf("OpenSearch at %s refused a fresh Hopsworks token of %s (401): is OpenSearch's JWT authentication set up with Hopsworks' signing key?", r.url, r.tokens.Who())}
	case se.Status == 401:
		return &Error{Kind: Refused, Msg: fmt.Sprintf("OpenSearch at %s refused the credentials (401): check --opensearch-user and the password in HOPSDEPLOY_OPENSEARCH_PASSWORD or --opensearch-password-file", r.url)}
	case se.Status == 403 && r.tokens != nil:
		return &Error{Kind: Forbidden, Msg: fmt.Sprintf("OpenSearch at %s forbids reading %s to %s (403): a project's members read that project's indices only; use --project (or --index) for a project the key's user is a member of", r.url, index, r.tokens.Who())}
	case se.Status == 403:
		return &Error{Kind: Forbidden, Msg: fmt.Sprintf("OpenSearch at %s forbids reading %s (403): the user needs read on %s", r.url, index, index)}
	}
	return &Error{Kind: Failed, Msg: fmt.Sprintf("OpenSearch at %s answered with an error (%d): %s", r.url, se.Status, clip(se.Error()))}
}

// clip is a server's words in a one-line message.
func clip(msg string) string { return text.Clip(msg, 300) }

// redactURL drops any user:password from a URL before it is printed.
func redactURL(raw string) string { return text.RedactURL(raw) }

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host")
}

func netCause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

func tlsCause(err error) string {
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return "its certificate is signed by an unknown authority"
	}
	var he x509.HostnameError
	if errors.As(err, &he) {
		return he.Error()
	}
	s := err.Error()
	if i := strings.Index(s, "x509: "); i >= 0 {
		return s[i:]
	}
	return s
}

// ServerError is OpenSearch's own error answer: its status, error.type and reason, and the
// types of its root causes (a search fails as search_phase_execution_exception whose root
// cause says why).
type ServerError struct {
	Status int
	Type   string
	Reason string
	Causes []string
}

// HasType tells whether the error or one of its root causes has type t.
func (e *ServerError) HasType(t string) bool {
	return e.Type == t || slices.Contains(e.Causes, t)
}

func (e *ServerError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("status %d: %s", e.Status, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Type, e.Reason)
}

// parseServerError reads an error answer: {"error":{"type":...,"reason":...},"status":...},
// {"error":"...","status":...}, or anything else (its first 300 bytes as the reason).
func parseServerError(status int, body []byte) *ServerError {
	e := &ServerError{Status: status}
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil && len(v.Error) > 0 {
		type cause struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		var structured struct {
			cause
			RootCause []cause `json:"root_cause"`
			CausedBy  *cause  `json:"caused_by"`
		}
		var plain string
		switch {
		case json.Unmarshal(v.Error, &structured) == nil && structured.Type != "":
			e.Type, e.Reason = structured.Type, structured.Reason
			for _, c := range structured.RootCause {
				e.Causes = append(e.Causes, c.Type)
			}
			if c := structured.CausedBy; c != nil {
				e.Causes = append(e.Causes, c.Type)
			}
			return e
		case json.Unmarshal(v.Error, &plain) == nil:
			e.Reason = plain
			return e
		}
	}
	e.Reason = string(body[:min(len(body), 300)])
	return e
}
