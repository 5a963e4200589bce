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
	if got := userByScimID(t, uid).Spec.UserName; got != userName {
		t.Errorf("userName changed to %q", got)
	}
}

// TestPrimaryMovesToTheNewValue: making an email primary by PATCH (with or without a path)
// takes primary from the others instead of failing; a body with two primaries is 400.
func TestPrimaryMovesToTheNewValue(t *testing.T) {
	id := createUser(t, uniq(t, "primary"), map[string]any{
		"emails": []any{map[string]any{"value": "old@example.com", "type": "work", "primary": true}},
	})
	path := "/scim/v2/Users/" + id
	primaries := func() []string {
		t.Helper()
		var out []string
		for _, e := range userByScimID(t, id).Spec.Emails {
			if e.Primary {
				out = append(out, e.Value)
			}
		}
		return out
	}
	for _, step := range []struct {
		name string
		op   map[string]any
		want string
	}{
		{"add with a path", map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": "new@example.com", "type": "home", "primary": true}}}, "new@example.com"},
		{"replace through a filter", map[string]any{"op": "replace", "path": `emails[type eq "work"].primary`, "value": true}, "old@example.com"},
		{"path-less add", map[string]any{"op": "add", "value": map[string]any{"emails": []any{map[string]any{"value": "third@example.com", "primary": true}}}}, "third@example.com"},
	} {
		call(t, http.MethodPatch, path, patchBody(step.op)).expect(t, http.StatusOK)
		if got := primaries(); len(got) != 1 || got[0] != step.want {
			t.Errorf("%s: primary emails %v, want only %s", step.name, got, step.want)
		}
	}
	if n := len(userByScimID(t, id).Spec.Emails); n != 3 {
		t.Errorf("%d emails, want 3", n)
	}
	r := call(t, http.MethodPut, path, map[string]any{"userName": userByScimID(t, id).Spec.UserName, "emails": []any{
		map[string]any{"value": "a@example.com", "primary": true}, map[string]any{"value": "b@example.com", "primary": true},
	}})
	r.expectError(t, http.StatusBadRequest, "invalidValue")
	if r.str("detail") != `at most one value of "emails" may be primary` {
		t.Errorf("detail %q", r.str("detail"))
	}
}
