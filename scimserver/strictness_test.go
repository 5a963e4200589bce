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
	"testing"
)

// TestIdentifiersMustBeStrings: userName and a Group's displayName identify the resource, so a
// number, a boolean or a blank string is 400 invalidValue on every way in, and "schemas" must
// be an array of strings; nothing is stored.
func TestIdentifiersMustBeStrings(t *testing.T) {
	userName := uniq(t, "strict")
	uid := createUser(t, userName, nil)
	gid := createGroup(t, uniq(t, "strict"))
	const userURN = "urn:ietf:params:scim:schemas:core:2.0:User"
	tests := []struct {
		name, method, path string
		body               any
	}{
		{"POST userName number", http.MethodPost, "/scim/v2/Users", `{"userName": 12345}`},
		{"POST userName boolean", http.MethodPost, "/scim/v2/Users", `{"userName": true}`},
		{"POST userName blank", http.MethodPost, "/scim/v2/Users", `{"userName": "   "}`},
		{"POST schemas a string", http.MethodPost, "/scim/v2/Users", `{"schemas": "` + userURN + `", "userName": "` + uniq(t, "s") + `"}`},
		{"POST schemas with a number", http.MethodPost, "/scim/v2/Users", `{"schemas": ["` + userURN + `", 2], "userName": "` + uniq(t, "s") + `"}`},
		{"PUT userName number", http.MethodPut, "/scim/v2/Users/" + uid, `{"userName": 7}`},
		{"PATCH userName number", http.MethodPatch, "/scim/v2/Users/" + uid,
			patchBody(map[string]any{"op": "replace", "path": "userName", "value": 7})},
		{"PATCH path-less userName blank", http.MethodPatch, "/scim/v2/Users/" + uid,
			patchBody(map[string]any{"op": "replace", "value": map[string]any{"userName": " "}})},
		{"POST Group displayName number", http.MethodPost, "/scim/v2/Groups", `{"displayName": 42}`},
		{"POST Group displayName blank", http.MethodPost, "/scim/v2/Groups", `{"displayName": "  "}`},
		{"PATCH Group displayName boolean", http.MethodPatch, "/scim/v2/Groups/" + gid,
			patchBody(map[string]any{"op": "replace", "path": "displayName", "value": false})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call(t, tt.method, tt.path, tt.body).expectError(t, http.StatusBadRequest, "invalidValue")
		})
	}
	if got := userByUID(t, uid).Spec.UserName; got != userName {
		t.Errorf("userName changed to %q", got)
	}
}
