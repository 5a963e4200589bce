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

var (
	resourceTypes = []*schema.ResourceType{schema.UserResource, schema.GroupResource}
	schemas       = []*schema.Schema{schema.User, schema.EnterpriseUser, schema.Group}
)

func (s *Server) handleServiceProviderConfig(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, schema.ServiceProviderConfig(schema.ServiceProviderOptions{
		MaxResults:     s.opts.MaxResults,
		BulkSupported:  true,
		MaxOperations:  s.maxBulkOperations(),
		MaxPayloadSize: int(s.opts.MaxBodyBytes),
	}, s.baseURL(r)))
	return nil
}

// handleResourceTypes serves /ResourceTypes and /ResourceTypes/{name}.
func (s *Server) handleResourceTypes(w http.ResponseWriter, r *http.Request, rest []string) error {
	base := s.baseURL(r)
	return serveDocuments(w, rest, "resource type", resourceTypes,
		func(rt *schema.ResourceType) string { return rt.Name },
		func(rt *schema.ResourceType) map[string]any { return schema.ResourceTypeDocument(rt, base) })
}

// handleSchemas serves /Schemas and /Schemas/{urn}.
func (s *Server) handleSchemas(w http.ResponseWriter, r *http.Request, rest []string) error {
	base := s.baseURL(r)
	return serveDocuments(w, rest, "schema", schemas,
		func(sc *schema.Schema) string { return sc.ID },
		func(sc *schema.Schema) map[string]any { return schema.SchemaDocument(sc, base) })
}

// serveDocuments answers a discovery collection: the one item whose key matches rest[0]
// (case-insensitively), or all of them as a ListResponse.
func serveDocuments[T any](w http.ResponseWriter, rest []string, what string, items []T, key func(T) string, doc func(T) map[string]any) error {
	if len(rest) == 1 {
		for _, it := range items {
			if strings.EqualFold(key(it), rest[0]) {
				writeJSON(w, http.StatusOK, doc(it))
				return nil
			}
		}
		return schema.Errorf(http.StatusNotFound, "", "%s %q not found", what, rest[0])
	}
	docs := make([]any, 0, len(items))
	for _, it := range items {
		docs = append(docs, doc(it))
	}
	writeJSON(w, http.StatusOK, listResponse(docs))
	return nil
}

func listResponse(resources []any) map[string]any {
	return map[string]any{
		"schemas":      []string{schema.ListResponseURN},
		"totalResults": len(resources),
		"startIndex":   1,
		"itemsPerPage": len(resources),
		"Resources":    resources,
	}
}

// handleRootSearch serves POST /.search over Users and Groups.
func (s *Server) handleRootSearch(w http.ResponseWriter, r *http.Request) error {
	q, err := s.searchRequest(r)
	if err != nil {
		return err
	}
	return s.search(w, r, q, s.userCollection(), s.groupCollection())
}
