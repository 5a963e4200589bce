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
		MaxOperations:  s.opts.MaxPatchOperations,
		MaxPayloadSize: int(s.opts.MaxBodyBytes),
	}, s.baseURL(r)))
	return nil
}

// handleResourceTypes serves /ResourceTypes and /ResourceTypes/{name}.
func (s *Server) handleResourceTypes(w http.ResponseWriter, r *http.Request, rest []string) error {
	base := s.baseURL(r)
	if len(rest) == 1 {
		for _, rt := range resourceTypes {
			if strings.EqualFold(rt.Name, rest[0]) {
				writeJSON(w, http.StatusOK, schema.ResourceTypeDocument(rt, base))
				return nil
			}
		}
		return schema.Errorf(http.StatusNotFound, "", "resource type %q not found", rest[0])
	}
	docs := make([]any, 0, len(resourceTypes))
	for _, rt := range resourceTypes {
		docs = append(docs, schema.ResourceTypeDocument(rt, base))
	}
	writeJSON(w, http.StatusOK, listResponse(docs))
	return nil
}

// handleSchemas serves /Schemas and /Schemas/{urn}.
func (s *Server) handleSchemas(w http.ResponseWriter, r *http.Request, rest []string) error {
	base := s.baseURL(r)
	if len(rest) == 1 {
		for _, sc := range schemas {
			if strings.EqualFold(sc.ID, rest[0]) {
				writeJSON(w, http.StatusOK, schema.SchemaDocument(sc, base))
				return nil
			}
		}
		return schema.Errorf(http.StatusNotFound, "", "schema %q not found", rest[0])
	}
	docs := make([]any, 0, len(schemas))
	for _, sc := range schemas {
		docs = append(docs, schema.SchemaDocument(sc, base))
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
	q, err := searchQuery(r)
	if err != nil {
		return err
	}
	return s.search(w, r, q, s.userCollection(), s.groupCollection())
}
