/*
Copyright 2026 The kubescim Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package scimserver

import (
	"net/http"
	"strings"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// endpoint is what a request path and method resolve to: the route template that labels the
// request's metrics (never an id), the methods the path allows, and the handler of the method.
type endpoint struct {
	route   string // e.g. "/Users/{id}"; routeOther when no endpoint matches
	allowed string // "" when no endpoint matches
	handler func(http.ResponseWriter, *http.Request) error
}

// routeOther labels requests that match no endpoint, so that scanners' paths do not become
// label values.
const routeOther = "other"

// match resolves a request below BasePath. Resource path segments are matched
// case-insensitively and a trailing slash is ignored, as Microsoft's test tooling sends
// "/users" and "/Users/".
func (s *Server) match(r *http.Request) endpoint {
	rest, ok := cutBasePath(r.URL.Path)
	if !ok {
		return endpoint{route: routeOther}
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	switch {
	case len(segs) == 0:
	case len(segs) == 1 && segs[0] == ".search":
		return endpoint{"/.search", "POST", s.handleRootSearch}
	case strings.EqualFold(segs[0], "Users") || strings.EqualFold(segs[0], "Groups"):
		kind, name := s.users, "/Users"
		if strings.EqualFold(segs[0], "Groups") {
			kind, name = s.groups, "/Groups"
		}
		switch {
		case len(segs) == 1:
			return endpoint{name, "GET, POST", map[string]func(http.ResponseWriter, *http.Request) error{
				http.MethodGet:  kind().handleList,
				http.MethodPost: kind().handleCreate,
			}[r.Method]}
		case len(segs) == 2 && segs[1] == ".search":
			e := endpoint{route: name + "/.search", allowed: "POST"}
			if r.Method == http.MethodPost {
				e.handler = kind().handleSearch
			}
			return e
		case len(segs) == 2:
			id := segs[1]
			return endpoint{name + "/{id}", "GET, PUT, PATCH, DELETE", map[string]func(http.ResponseWriter, *http.Request) error{
				http.MethodGet:    func(w http.ResponseWriter, r *http.Request) error { return kind().handleGet(w, r, id) },
				http.MethodPut:    func(w http.ResponseWriter, r *http.Request) error { return kind().handleReplace(w, r, id) },
				http.MethodPatch:  func(w http.ResponseWriter, r *http.Request) error { return kind().handlePatch(w, r, id) },
				http.MethodDelete: func(w http.ResponseWriter, r *http.Request) error { return kind().handleDelete(w, r, id) },
			}[r.Method]}
		}
	case len(segs) == 1 && strings.EqualFold(segs[0], "ServiceProviderConfig"):
		return endpoint{"/ServiceProviderConfig", "GET", s.handleServiceProviderConfig}
	case strings.EqualFold(segs[0], "ResourceTypes") && len(segs) <= 2:
		return endpoint{[]string{"/ResourceTypes", "/ResourceTypes/{id}"}[len(segs)-1], "GET",
			func(w http.ResponseWriter, r *http.Request) error { return s.handleResourceTypes(w, r, segs[1:]) }}
	case strings.EqualFold(segs[0], "Schemas") && len(segs) <= 2:
		return endpoint{[]string{"/Schemas", "/Schemas/{id}"}[len(segs)-1], "GET",
			func(w http.ResponseWriter, r *http.Request) error { return s.handleSchemas(w, r, segs[1:]) }}
	case len(segs) == 1 && strings.EqualFold(segs[0], "Bulk"):
		return endpoint{"/Bulk", "POST", s.handleBulk}
	}
	return endpoint{route: routeOther}
}

// route dispatches a request below BasePath to its endpoint.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	e := s.match(r)
	if e.allowed == "" {
		writeError(ctx, w, schema.Errorf(http.StatusNotFound, "", "no SCIM endpoint at %s", r.URL.Path))
		return
	}
	if e.handler == nil || !methodAllowed(r.Method, e.allowed) {
		w.Header().Set("Allow", e.allowed)
		writeError(ctx, w, schema.Errorf(http.StatusMethodNotAllowed, "", "method %s is not allowed here", r.Method))
		return
	}
	if err := e.handler(w, r); err != nil {
		writeError(ctx, w, err)
	}
}

func methodAllowed(method, allowed string) bool {
	for _, m := range strings.Split(allowed, ", ") {
		if m == method {
			return true
		}
	}
	return false
}

// cutBasePath returns the part of p after BasePath (case-insensitive prefix).
func cutBasePath(p string) (string, bool) {
	if len(p) < len(BasePath) || !strings.EqualFold(p[:len(BasePath)], BasePath) {
		return "", false
	}
	rest := p[len(BasePath):]
	if rest != "" && rest[0] != '/' {
		return "", false
	}
	return rest, true
}
