// Package cluster reads what the plugin needs from the Kubernetes API with client-go: it
// resolves a Hopsworks deployment name to its objects and gathers them into a state.Snapshot
// with a small, bounded number of list calls made in parallel.
package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// NotFoundError says that no deployment of that name exists, and lists the close names.
type NotFoundError struct {
	Name, Namespace string
	Suggestions     []string
	NamespaceGone   bool
	// Hint is said last: how to find a stopped deployment, which leaves nothing in the cluster.
	Hint string
}

func (e *NotFoundError) Error() string {
	if e.NamespaceGone {
		return fmt.Sprintf("namespace %q not found: pass an existing namespace with -n, or a Hopsworks project with --project", e.Namespace)
	}
	msg := fmt.Sprintf("deployment %q not found in namespace %q", e.Name, e.Namespace)
	switch {
	case len(e.Suggestions) == 0:
		msg += ": there are no Hopsworks deployments there (wrong namespace? use -n or --project)"
	default:
		msg += "; deployments there, closest first: " + strings.Join(e.Suggestions, ", ")
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// AccessError is a call the user's RBAC rights do not allow.
type AccessError struct {
	Verb, Resource, Namespace string
	Err                       error
}

func (e *AccessError) Error() string {
	where := "at cluster scope"
	if e.Namespace != "" {
		where = fmt.Sprintf("in namespace %q", e.Namespace)
	}
	return fmt.Sprintf("forbidden: you cannot %s %s %s; ask your cluster admin for %q on %q (see the README's RBAC section)",
		e.Verb, e.Resource, where, e.Verb, e.Resource)
}

func (e *AccessError) Unwrap() error { return e.Err }

// ConnectionError is an API server that cannot be reached.
type ConnectionError struct {
	Host string
	Err  error
}

func (e *ConnectionError) Error() string {
	return fmt.Sprintf("cannot reach the Kubernetes API server at %s: %v (check --kubeconfig, --context and that the cluster is up)", e.Host, rootCause(e.Err))
}

func (e *ConnectionError) Unwrap() error { return e.Err }

func rootCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// wrap turns an API error into one that names what was being done.
func wrap(err error, verb, resource, ns, host string) error {
	if err == nil {
		return nil
	}
	switch {
	case apierrors.IsForbidden(err):
		return &AccessError{Verb: verb, Resource: resource, Namespace: ns, Err: err}
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("unauthorized: the API server at %s rejected your credentials (log in again or check --kubeconfig/--context): %w", host, err)
	case isConnection(err):
		return &ConnectionError{Host: host, Err: err}
	}
	return fmt.Errorf("%s %s in namespace %q: %w", verb, resource, ns, err)
}

func isConnection(err error) bool {
	var op *net.OpError
	var ue *url.Error
	var dns *net.DNSError
	return errors.As(err, &op) || errors.As(err, &dns) || (errors.As(err, &ue) && !apierrors.IsTimeout(err))
}
