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
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Request sequences Okta sends, with the shapes from Okta's SCIM 2.0 provisioning guide
// (developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20) and the checks of its
// "SCIM 2.0 Spec Test" suite.

func oktaFilter(userName string) string {
	return "/scim/v2/Users?filter=" + url.QueryEscape(fmt.Sprintf("userName eq %q", userName)) + "&startIndex=1&count=100"
}

func TestOktaConnectionAndSpecChecks(t *testing.T) {
	// Connection test: a filter on a userName nobody has answers an empty ListResponse.
	r := call(t, http.MethodGet, oktaFilter("okta-connection-test@okta.local"), nil).expect(t, http.StatusOK)
	if r.body["totalResults"] != float64(0) || r.body["schemas"].([]any)[0] != "urn:ietf:params:scim:api:messages:2.0:ListResponse" {
		t.Fatalf("connection test answer %s", r.raw)
	}
	if res, ok := r.body["Resources"].([]any); !ok || len(res) != 0 {
		t.Errorf("Resources = %v, want []", r.body["Resources"])
	}
	// Spec test: unknown id -> 404 Error document; page of 1.
	call(t, http.MethodGet, "/scim/v2/Users/010101001010101", nil).expectError(t, http.StatusNotFound, "")
	createUser(t, uniq(t, "spec"), nil)
	page := call(t, http.MethodGet, "/scim/v2/Users?count=1&startIndex=1", nil).expect(t, http.StatusOK)
	if page.body["itemsPerPage"] != float64(1) || len(page.body["Resources"].([]any)) != 1 {
		t.Errorf("count=1 page %s", page.raw)
	}
}

func TestOktaUserLifecycle(t *testing.T) {
	userName := uniq(t, "test.user") + "@okta.local"
	call(t, http.MethodGet, oktaFilter(userName), nil).expect(t, http.StatusOK)
	created := call(t, http.MethodPost, "/scim/v2/Users", fmt.Sprintf(`{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": %q,
		"name": {"givenName": "Test", "familyName": "User"},
		"emails": [{"primary": true, "value": %q, "type": "work"}],
		"displayName": "Test User",
		"locale": "en-US",
		"externalId": "00ujl29u0le5T6Aj10h7",
		"groups": [],
		"password": "1mz050nq",
		"active": true
	}`, userName, userName)).expect(t, http.StatusCreated)
	id := created.str("id")
	if created.body["active"] != true || created.str("userName") != userName || strings.Contains(created.raw, "1mz050nq") {
		t.Fatalf("create answer %s", created.raw)
	}
	// Okta's spec test: the same user again is a 409, and userName lookups ignore case.
	call(t, http.MethodPost, "/scim/v2/Users", map[string]any{"userName": userName}).expectError(t, http.StatusConflict, "uniqueness")
	found := call(t, http.MethodGet, oktaFilter(strings.ToUpper(userName)), nil).expect(t, http.StatusOK)
	if found.body["totalResults"] != float64(1) {
		t.Errorf("upper-case userName filter: %s", found.raw)
	}
	call(t, http.MethodGet, "/scim/v2/Users/"+id, nil).expect(t, http.StatusOK)

	// Profile update: Okta PUTs the whole user, echoing id, meta and groups.
	put := call(t, http.MethodPut, "/scim/v2/Users/"+id, fmt.Sprintf(`{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"id": %q,
		"userName": %q,
		"name": {"givenName": "Another", "familyName": "User"},
		"emails": [{"primary": true, "value": %q, "type": "work"}],
		"displayName": "Another User",
		"locale": "en-US",
		"externalId": "00ujl29u0le5T6Aj10h7",
		"groups": [],
		"active": true,
		"meta": {"resourceType": "User"}
	}`, id, userName, userName)).expect(t, http.StatusOK)
	if name, _ := put.body["name"].(map[string]any); name["givenName"] != "Another" {
		t.Errorf("PUT answer %s", put.raw)
	}

	// Deactivate and reactivate with Okta's path-less replace; Okta expects the user back.
	for _, active := range []bool{false, true} {
		r := call(t, http.MethodPatch, "/scim/v2/Users/"+id, fmt.Sprintf(`{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "replace", "value": {"active": %t}}]
		}`, active)).expect(t, http.StatusOK)
		if r.body["active"] != active {
			t.Errorf("active after PATCH = %v, want %v", r.body["active"], active)
		}
		if got := userByScimID(t, id).Spec.IsActive(); got != active {
			t.Errorf("stored active %v, want %v", got, active)
		}
	}
}

func TestOktaGroupPush(t *testing.T) {
	alice := createUser(t, uniq(t, "alice")+"@okta.local", nil)
	bob := createUser(t, uniq(t, "bob")+"@okta.local", nil)
	name := uniq(t, "Test SCIMv2")
	created := call(t, http.MethodPost, "/scim/v2/Groups", fmt.Sprintf(`{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
		"displayName": %q,
		"members": []
	}`, name)).expect(t, http.StatusCreated)
	gid := created.str("id")

	// Okta's rename: a path-less replace that echoes the id.
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, fmt.Sprintf(`{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "value": {"id": %q, "displayName": %q}}]
	}`, gid, name+" renamed")).expect(t, http.StatusNoContent)
	if got := groupByScimID(t, gid).Spec.DisplayName; got != name+" renamed" {
		t.Errorf("displayName %q", got)
	}

	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, fmt.Sprintf(`{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "add", "path": "members", "value": [
			{"value": %q, "display": "alice@okta.local"},
			{"value": %q, "display": "bob@okta.local"}]}]
	}`, alice, bob)).expect(t, http.StatusNoContent)
	if m := groupMemberIDs(t, gid); !m[alice] || !m[bob] {
		t.Fatalf("members %v", m)
	}
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, fmt.Sprintf(`{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "remove", "path": "members[value eq \"%s\"]"}]
	}`, alice)).expect(t, http.StatusNoContent)
	if m := groupMemberIDs(t, gid); m[alice] || !m[bob] {
		t.Fatalf("members after remove %v", m)
	}
	got := call(t, http.MethodGet, "/scim/v2/Groups/"+gid, nil).expect(t, http.StatusOK)
	if m := memberIDs(got.body); len(m) != 1 || !m[bob] {
		t.Errorf("GET members %v", m)
	}
	call(t, http.MethodDelete, "/scim/v2/Groups/"+gid, nil).expect(t, http.StatusNoContent)
	call(t, http.MethodGet, "/scim/v2/Groups/"+gid, nil).expectError(t, http.StatusNotFound, "")
}
