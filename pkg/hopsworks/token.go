package hopsworks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// ProjectToken hands out a project's OpenSearch JWT, fetched on first use and fetched again
// when OpenSearch refuses it (it lives 10 to 30 minutes). It is safe for the parallel
// readers of one export: a token that one reader renewed is not renewed again by the others.
type ProjectToken struct {
	client  *Client
	project string

	mu    sync.Mutex
	id    int
	token string
}

// NewProjectToken is the token source for one project.
func NewProjectToken(c *Client, project string) *ProjectToken {
	return &ProjectToken{client: c, project: project}
}

// NewProjectTokenOf is the token source for a project whose id Hopsworks has given already.
func NewProjectTokenOf(c *Client, p Project) *ProjectToken {
	return &ProjectToken{client: c, project: p.Name, id: p.ID}
}

// Token returns the current token, fetching one the first time.
func (p *ProjectToken) Token(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token != "" {
		return p.token, nil
	}
	return p.fetch(ctx)
}

// Renew fetches a new token unless the one that was refused (stale) was renewed already.
func (p *ProjectToken) Renew(ctx context.Context, stale string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token != "" && p.token != stale {
		return p.token, nil
	}
	return p.fetch(ctx)
}

// ProjectID returns the project's id, looked up once.
func (p *ProjectToken) ProjectID(ctx context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.projectID(ctx)
}

func (p *ProjectToken) projectID(ctx context.Context) (int, error) {
	if p.id == 0 {
		id, err := p.client.ProjectID(ctx, p.project)
		if err != nil {
			return 0, err
		}
		p.id = id
	}
	return p.id, nil
}

func (p *ProjectToken) fetch(ctx context.Context) (string, error) {
	if _, err := p.projectID(ctx); err != nil {
		return "", err
	}
	t, err := p.client.OpenSearchToken(ctx, p.project, p.id)
	if err != nil {
		return "", err
	}
	p.token = t
	return t, nil
}

// Who says whose token this is, for a 403's message: the project and the role that
// Hopsworks put in it (read from the token's claims, which OpenSearch verifies, not this).
func (p *ProjectToken) Who() string {
	p.mu.Lock()
	t := p.token
	p.mu.Unlock()
	sub, role := claims(t)
	if sub == "" {
		sub = p.project
	}
	if role == "" {
		return fmt.Sprintf("project %s", sub)
	}
	return fmt.Sprintf("project %s as %s", sub, role)
}

// claims reads the subject and the roles of a JWT without verifying it: for messages only.
func claims(token string) (sub, roles string) {
	token = strings.TrimSpace(token)
	if i := strings.LastIndexByte(token, ' '); i >= 0 {
		token = token[i+1:] // "Bearer <jwt>"
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) > 8192 {
		return "", ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", ""
	}
	var c struct {
		Sub   string `json:"sub"`
		Roles any    `json:"roles"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return "", ""
	}
	switch r := c.Roles.(type) {
	case string:
		roles = r
	case []any:
		var names []string
		for _, v := range r {
			if s, ok := v.(string); ok {
				names = append(names, s)
			}
		}
		roles = strings.Join(names, ",")
	}
	return c.Sub, roles
}
