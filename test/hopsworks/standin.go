// Package hopsworks is a STAND-IN for the Hopsworks REST API, for tests, the sandbox and the
// demo: no Hopsworks backend can run here. It serves only the calls the plugin makes, with
// the paths, headers and JSON shapes of the real API:
//
//	GET /hopsworks-api/api/project/getProjectInfo/{name}  {"projectId": N, "projectName": name}
//	GET /hopsworks-api/api/elastic/jwt/{projectId}       {"token": JWT, "projectName": name}
//	GET /hopsworks-api/api/variables/{name}              {"successMessage": value}
//
// each with "Authorization: ApiKey <key>". The OpenSearch JWT is signed with HS256 by the key
// the real security plugin's JWT auth domain checks (hack/opensearch-secured.sh), carries the
// project in "sub" and the member's role in "roles" as Hopsworks' does, and lives TokenTTL,
// a few seconds in tests, so that renewal is exercised by real 401 answers. Everything the
// plugin then reads comes from the real OpenSearch.
package hopsworks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Key is an API key's user: the projects it is a member of, by name, with its role there.
type Key struct {
	Projects map[string]string // project -> data_owner or data_scientist
	// NoProjectScope makes it a key without the PROJECT scope: every call is forbidden.
	NoProjectScope bool
	// AllProjects makes it a data owner of every project asked for (the sandbox's key):
	// an unknown project is made on first ask.
	AllProjects bool
}

// StandIn is the stand-in's state.
type StandIn struct {
	SigningKey []byte // HS256 key, as the security plugin has it (decoded)
	TokenTTL   time.Duration
	Projects   map[string]int    // name -> id
	Variables  map[string]string // e.g. loadbalancer_external_domain_opensearch
	Keys       map[string]Key

	mu     sync.Mutex
	Tokens atomic.Int64 // tokens handed out, for tests of renewal
	// Calls counts the calls by path prefix, for tests.
	calls map[string]int
}

// Calls returns how many calls were made to a path prefix ("elastic/jwt").
func (s *StandIn) Calls(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[prefix]
}

func (s *StandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const base = "/hopsworks-api/api/"
	path, ok := strings.CutPrefix(r.URL.Path, base)
	if !ok || r.Method != http.MethodGet {
		fail(w, http.StatusNotFound, 0, "not served by the stand-in")
		return
	}
	parts := strings.Split(path, "/")
	s.mu.Lock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	if len(parts) >= 2 {
		s.calls[parts[0]+"/"+parts[1]]++
	}
	s.mu.Unlock()
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "ApiKey ")
	key, known := s.Keys[raw]
	switch {
	case !ok || !known:
		fail(w, http.StatusUnauthorized, 200003, "Authorization header not set or the API key is not valid.")
		return
	case key.NoProjectScope:
		fail(w, http.StatusForbidden, 320004, "No valid scope found for this invocation")
		return
	}
	switch {
	case len(parts) == 3 && parts[0] == "project" && parts[1] == "getProjectInfo":
		if key.AllProjects {
			s.ensure(parts[2])
		}
		s.mu.Lock()
		id, exists := s.Projects[parts[2]]
		s.mu.Unlock()
		if _, member := key.Projects[parts[2]]; !exists || (!member && !key.AllProjects) {
			fail(w, http.StatusBadRequest, 150004, "Project wasn't found.")
			return
		}
		reply(w, map[string]any{"projectId": id, "projectName": parts[2]})
	case len(parts) == 3 && parts[0] == "elastic" && parts[1] == "jwt":
		id, _ := strconv.Atoi(parts[2])
		name := ""
		s.mu.Lock()
		for n, pid := range s.Projects {
			if pid == id {
				name = n
			}
		}
		s.mu.Unlock()
		role, member := key.Projects[name]
		if key.AllProjects && !member {
			role, member = "data_owner", true
		}
		if name == "" || !member {
			fail(w, http.StatusForbidden, 150128, "No valid role found for this invocation")
			return
		}
		s.Tokens.Add(1)
		reply(w, map[string]any{"token": s.sign(name, role), "projectName": name, "kibanaUrl": ""})
	case len(parts) == 2 && parts[0] == "variables":
		v, set := s.Variables[parts[1]]
		if !set {
			fail(w, http.StatusNotFound, 100032, "Variable not found.")
			return
		}
		reply(w, map[string]any{"successMessage": v})
	default:
		fail(w, http.StatusNotFound, 0, "not served by the stand-in")
	}
}

// ensure makes a project of that name unless there is one.
func (s *StandIn) ensure(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Projects == nil {
		s.Projects = map[string]int{}
	}
	if _, ok := s.Projects[name]; !ok {
		s.Projects[name] = 1000 + len(s.Projects)
	}
}

// sign makes the project's OpenSearch JWT: what Hopsworks' OpenSearchJWTController puts in it.
func (s *StandIn) sign(project, role string) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now()
	ttl := s.TokenTTL
	if ttl == 0 {
		ttl = 30 * time.Minute
	}
	unsigned := enc(map[string]any{"alg": "HS256", "typ": "JWT"}) + "." + enc(map[string]any{
		"sub": strings.ToLower(project), "roles": role, "pn": strings.ToLower(project), "iss": "hopsworks@logicalclocks.com",
		"iat": now.Unix(), "nbf": now.Unix() - 1, "exp": now.Add(ttl).Unix(),
	})
	mac := hmac.New(sha256.New, s.SigningKey)
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers as Hopsworks' REST API does: a status and {errorCode, errorMsg}.
func fail(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errorCode": code, "errorMsg": msg})
}
