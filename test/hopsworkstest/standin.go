// Package hopsworkstest is a STAND-IN for the Hopsworks REST API, for tests, the sandbox and the
// demo: no Hopsworks backend can run here. It serves only the calls the plugin makes, with
// the paths, headers, JSON shapes, filters and error answers of the real API (Hopsworks
// branch-3.8: ApiKeyFilter, ProjectAuthFilter, RESTCodes, and the services named below):
//
//	GET project                                      PROJECT       the key's user's projects (ProjectService.findAllByUser)
//	GET project/getProjectInfo/{name}                PROJECT       {"projectId", "projectName", "namespace"} (getProjectByName)
//	GET elastic/jwt/{projectId}                      FEATURESTORE or PYTHON_LIBRARIES   {"token", "projectName"} (OpenSearchService)
//	GET variables/{name}                             PROJECT       {"successMessage": value} (VariablesService)
//	GET project/{projectId}/serving?name={name}      SERVING       the deployment, or 404 (ServingService.getAll)
//
// each with "Authorization: ApiKey <key>". It refuses as Hopsworks does, in Hopsworks' order
// (the API key filter before the project filter): no key 401 (200003), an unknown key 401
// (320002, "Api key not found"); a key without
// one of the call's scopes 403 (320004, "No valid scope found for this invocation"); an
// unknown project 404 (150004, "Project wasn't found."); a user who is not a member 403
// (160000, "No valid role found for this user"); an unknown deployment 404 (240000).
// Project names match exactly, as Hopsworks' findByName does.
//
// It does NOT imitate: users, key creation and expiry (a key is valid or unknown), the
// HOPS_ADMIN/HOPS_USER account roles, any other endpoint (404 "not served"), pagination,
// the rest of a project's or a deployment's fields, and Hopsworks' own database: what a
// project has (its id, its own namespace, its deployments) is what the test gives it.
//
// The OpenSearch JWT is signed with HS256 by the key the real security plugin's JWT auth
// domain checks (hack/opensearch-secured.sh), carries the project in "sub" and "pn" and the
// member's role in "roles" as Hopsworks' OpenSearchJWTController does, and lives TokenTTL, a
// few seconds in tests, so that renewal is exercised by real 401 answers. Everything the
// plugin then reads comes from the real OpenSearch.
package hopsworkstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// API key scopes (Hopsworks' ApiScope) that the plugin's calls need.
const (
	ScopeProject         = "PROJECT"
	ScopeFeatureStore    = "FEATURESTORE"
	ScopePythonLibraries = "PYTHON_LIBRARIES"
	ScopeServing         = "SERVING"
)

// UserScopes are the scopes the README tells a user to create a key with.
var UserScopes = []string{ScopeProject, ScopeFeatureStore, ScopeServing}

// Member roles in a project, as Hopsworks puts them in the OpenSearch JWT.
const (
	DataOwner     = "data_owner"
	DataScientist = "data_scientist"
)

// Key is an API key: its scopes, and its user's projects, by name, with the role there.
type Key struct {
	Projects map[string]string // project name -> DataOwner or DataScientist
	Scopes   []string
}

// Project is what Hopsworks' database holds of a project, for the calls served.
type Project struct {
	ID int
	// Namespace is the project's own namespace (Hopsworks 4.1 and later), "" for the default
	// one (the name lower-cased, [^a-z0-9-] turned into "-").
	Namespace string
	// Servings are its deployments by name, with their Hopsworks status ("Stopped", "Running").
	Servings map[string]string
}

// StandIn is the stand-in's state.
type StandIn struct {
	SigningKey []byte // HS256 key, as the security plugin has it (decoded)
	TokenTTL   time.Duration
	Projects   map[string]Project // by name, as Hopsworks spells it
	Variables  map[string]string  // e.g. loadbalancer_external_domain_opensearch
	Keys       map[string]Key

	mu     sync.Mutex
	Tokens atomic.Int64 // tokens handed out, for tests of renewal
	// calls counts the calls by path prefix, for tests.
	calls map[string]int
}

// Calls returns how many calls were made to a path prefix ("elastic/jwt").
func (s *StandIn) Calls(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[prefix]
}

// route is one served call: its scopes, and its handler once the key passed them.
type route struct {
	scopes []string
	serve  func(w http.ResponseWriter, r *http.Request, key Key, parts []string)
}

func (s *StandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const base = "/hopsworks-api/api/"
	path, ok := strings.CutPrefix(r.URL.Path, base)
	if !ok || r.Method != http.MethodGet {
		fail(w, http.StatusNotFound, 0, "not served by the stand-in")
		return
	}
	parts := strings.Split(path, "/")
	s.count(parts)
	rt, ok := s.route(parts)
	if !ok {
		fail(w, http.StatusNotFound, 0, "not served by the stand-in")
		return
	}
	header := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(header, "ApiKey ")
	key, known := s.Keys[strings.TrimSpace(raw)]
	switch {
	case header == "":
		fail(w, http.StatusUnauthorized, 200003, "Authorization header not set.") // SecurityErrorCode.EJB_ACCESS_LOCAL
	case !ok:
		fail(w, http.StatusUnauthorized, 200003, "Invalidated Api key.")
	case !known:
		fail(w, http.StatusUnauthorized, 320002, "Api key not found") // ApiKeyErrorCode.KEY_NOT_FOUND
	case !slices.ContainsFunc(rt.scopes, func(sc string) bool { return slices.Contains(key.Scopes, sc) }):
		fail(w, http.StatusForbidden, 320004, "No valid scope found for this invocation")
	default:
		rt.serve(w, r, key, parts)
	}
}

func (s *StandIn) count(parts []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	switch {
	case len(parts) >= 3 && parts[0] == "project" && parts[2] == "serving":
		s.calls["project/serving"]++
	case len(parts) >= 2:
		s.calls[parts[0]+"/"+parts[1]]++
	default:
		s.calls[parts[0]]++
	}
}

func (s *StandIn) route(parts []string) (route, bool) {
	switch {
	case len(parts) == 1 && parts[0] == "project":
		return route{[]string{ScopeProject}, s.myProjects}, true
	case len(parts) == 3 && parts[0] == "project" && parts[1] == "getProjectInfo":
		return route{[]string{ScopeProject}, func(w http.ResponseWriter, _ *http.Request, key Key, parts []string) {
			if name, p, ok := s.member(w, key, parts[2], 0); ok {
				reply(w, map[string]any{"projectId": p.ID, "projectName": name, "namespace": p.Namespace})
			}
		}}, true
	case len(parts) == 3 && parts[0] == "elastic" && parts[1] == "jwt":
		return route{[]string{ScopeFeatureStore, ScopePythonLibraries}, s.token}, true
	case len(parts) == 2 && parts[0] == "variables":
		return route{[]string{ScopeProject}, func(w http.ResponseWriter, _ *http.Request, _ Key, parts []string) {
			v, set := s.Variables[parts[1]]
			if !set {
				fail(w, http.StatusNotFound, 100032, "Variable not found.")
				return
			}
			reply(w, map[string]any{"successMessage": v})
		}}, true
	case len(parts) == 3 && parts[0] == "project" && parts[2] == "serving":
		return route{[]string{ScopeServing}, s.serving}, true
	}
	return route{}, false
}

// member finds a project by name (or id, when name is "") and checks that the key's user is
// a member, answering as ProjectAuthFilter does when not.
func (s *StandIn) member(w http.ResponseWriter, key Key, name string, id int) (string, Project, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, found := s.Projects[name]
	if name == "" {
		for n, q := range s.Projects {
			if q.ID == id {
				name, p, found = n, q, true
			}
		}
	}
	if !found {
		fail(w, http.StatusNotFound, 150004, "Project wasn't found.")
		return "", Project{}, false
	}
	if _, ok := key.Projects[name]; !ok {
		fail(w, http.StatusForbidden, 160000, "No valid role found for this user")
		return "", Project{}, false
	}
	return name, p, true
}

// myProjects lists the key's user's projects as ProjectTeam entries.
func (s *StandIn) myProjects(w http.ResponseWriter, _ *http.Request, key Key, _ []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for name, role := range key.Projects {
		p, ok := s.Projects[name]
		if !ok {
			continue
		}
		team := "Data scientist"
		if role == DataOwner {
			team = "Data owner"
		}
		out = append(out, map[string]any{"project": map[string]any{"id": p.ID, "name": name, "namespace": p.Namespace}, "teamRole": team})
	}
	reply(w, out)
}

// memberByID is member for a project id given in the path.
func (s *StandIn) memberByID(w http.ResponseWriter, key Key, rawID string) (string, Project, bool) {
	id, err := strconv.Atoi(rawID)
	if err != nil {
		fail(w, http.StatusNotFound, 150004, "Project wasn't found.")
		return "", Project{}, false
	}
	return s.member(w, key, "", id)
}

func (s *StandIn) token(w http.ResponseWriter, _ *http.Request, key Key, parts []string) {
	name, _, ok := s.memberByID(w, key, parts[2])
	if !ok {
		return
	}
	s.Tokens.Add(1)
	reply(w, map[string]any{"token": s.sign(name, key.Projects[name]), "projectName": name, "kibanaUrl": ""})
}

func (s *StandIn) serving(w http.ResponseWriter, r *http.Request, key Key, parts []string) {
	_, p, ok := s.memberByID(w, key, parts[1])
	if !ok {
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		fail(w, http.StatusNotFound, 0, "not served by the stand-in: only the look-up by name")
		return
	}
	status, exists := p.Servings[name]
	if !exists {
		fail(w, http.StatusNotFound, 240000, "Serving instance not found")
		return
	}
	reply(w, map[string]any{"id": 1, "name": name, "status": status})
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
