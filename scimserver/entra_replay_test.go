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
	"testing"
)

// Request sequences Microsoft Entra ID sends, with the shapes from "Tutorial: Develop and plan
// provisioning for a SCIM endpoint" (learn.microsoft.com/.../use-scim-to-provision-users-and-groups)
// and its known deviations (string booleans, capitalised ops, manager shapes, path-less replace
// with dotted and URN keys).

func TestEntraConnectionTest(t *testing.T) {
	r := call(t, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "4d8b9c7e-1a2f-4e5d-9b0c-entra-test"`), nil).expect(t, http.StatusOK)
	if r.body["totalResults"] != float64(0) {
		t.Errorf("connection test: %s", r.raw)
	}
	g := call(t, http.MethodGet, "/scim/v2/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "no such group"`), nil).expect(t, http.StatusOK)
	if g.body["totalResults"] != float64(0) {
		t.Errorf("group probe: %s", g.raw)
	}
}

func TestEntraUserLifecycle(t *testing.T) {
	manager := createUser(t, uniq(t, "boss"), nil)
	userName := uniq(t, "Test_User_ab6490ee")
	created := call(t, http.MethodPost, "/scim/v2/Users", fmt.Sprintf(`{
		"schemas": [
			"urn:ietf:params:scim:schemas:core:2.0:User",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName": %q,
		"active": true,
		"emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
		"meta": {"resourceType": "User"},
		"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"roles": [],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Finance", "employeeNumber": "701984"}
	}`, userName)).expect(t, http.StatusCreated)
	id := created.str("id")
	path := "/scim/v2/Users/" + id

	lookup := call(t, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(fmt.Sprintf(`userName eq %q`, userName)), nil).expect(t, http.StatusOK)
	if lookup.body["totalResults"] != float64(1) {
		t.Fatalf("lookup %s", lookup.raw)
	}

	patch := func(ops string) response {
		t.Helper()
		return call(t, http.MethodPatch, path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`+ops+`}`)
	}
	enterprise := func() map[string]any {
		t.Helper()
		r := call(t, http.MethodGet, path, nil).expect(t, http.StatusOK)
		ent, _ := r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
		return ent
	}
	managerValue := func() any {
		ent := enterprise()
		m, _ := ent["manager"].(map[string]any)
		return m["value"]
	}

	// Capitalised ops, value-filter path and sub-attribute path in one request.
	patch(`[
		{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
		{"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]`).expect(t, http.StatusOK)
	u := userByScimID(t, id)
	if len(u.Spec.Emails) != 1 || u.Spec.Emails[0].Value != "updatedEmail@microsoft.com" || u.Spec.Name.FamilyName != "updatedFamilyName" {
		t.Errorf("after PATCH: emails %v name %+v", u.Spec.Emails, u.Spec.Name)
	}

	// Manager shapes: array with $ref, bare string, object; removal by empty string and by remove.
	patch(fmt.Sprintf(`[{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": [{"$ref": null, "value": %q}]}]`, manager)).expect(t, http.StatusOK)
	if managerValue() != manager {
		t.Errorf("manager from array = %v", managerValue())
	}
	patch(`[{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "bare-manager-id"}]`).expect(t, http.StatusOK)
	if managerValue() != "bare-manager-id" {
		t.Errorf("manager from bare string = %v", managerValue())
	}
	patch(`[{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": ""}]`).expect(t, http.StatusOK)
	if managerValue() != nil {
		t.Errorf("manager after empty string = %v", managerValue())
	}
	patch(fmt.Sprintf(`[{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": %q}}]`, manager)).expect(t, http.StatusOK)
	patch(`[{"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`).expect(t, http.StatusOK)
	if managerValue() != nil {
		t.Errorf("manager after remove = %v", managerValue())
	}

	// Path-less replace with dotted and URN keys (Entra without the aadOptscim062020 flag).
	patch(`[{"op": "Replace", "value": {
		"displayName": "Updated Display",
		"name.givenName": "Updated",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales"}}]`).expect(t, http.StatusOK)
	u = userByScimID(t, id)
	if u.Spec.DisplayName != "Updated Display" || u.Spec.Name.GivenName != "Updated" || u.Spec.Enterprise.Department != "Sales" {
		t.Errorf("after path-less replace: %+v", u.Spec)
	}
	if u.Spec.Enterprise.EmployeeNumber != "701984" {
		t.Error("path-less replace cleared an untouched enterprise attribute")
	}

	// Booleans as strings, with and without the flag's fix.
	for _, v := range []string{`"False"`, `"true"`, `false`} {
		patch(`[{"op": "Replace", "path": "active", "value": `+v+`}]`).expect(t, http.StatusOK)
		want := v == `"true"`
		if got := userByScimID(t, id).Spec.IsActive(); got != want {
			t.Errorf("active after %s = %v", v, got)
		}
	}

	// Deleting goes through.
	call(t, http.MethodDelete, path, nil).expect(t, http.StatusNoContent)
	call(t, http.MethodGet, path, nil).expectError(t, http.StatusNotFound, "")
}

func TestEntraAddsWorkEmailWhenNoneExists(t *testing.T) {
	id := createUser(t, uniq(t, "noemail"), nil)
	call(t, http.MethodPatch, "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"}]}`).expect(t, http.StatusOK)
	u := userByScimID(t, id)
	if len(u.Spec.Emails) != 1 || u.Spec.Emails[0].Value != "new@contoso.com" || u.Spec.Emails[0].Type != "work" {
		t.Errorf("emails %+v", u.Spec.Emails)
	}
}

func TestEntraGroupLifecycle(t *testing.T) {
	a := createUser(t, uniq(t, "a"), nil)
	b := createUser(t, uniq(t, "b"), nil)
	name := uniq(t, "EntraGroup")
	created := call(t, http.MethodPost, "/scim/v2/Groups", fmt.Sprintf(`{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
		"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
		"displayName": %q,
		"meta": {"resourceType": "Group"}
	}`, name)).expect(t, http.StatusCreated)
	gid := created.str("id")
	path := "/scim/v2/Groups/" + gid

	r := call(t, http.MethodGet, path+"?excludedAttributes=members", nil).expect(t, http.StatusOK)
	if _, ok := r.body["members"]; ok || r.str("displayName") != name {
		t.Errorf("GET excludedAttributes=members: %s", r.raw)
	}
	list := call(t, http.MethodGet, "/scim/v2/Groups?excludedAttributes=members&filter="+url.QueryEscape(fmt.Sprintf("displayName eq %q", name)), nil).expect(t, http.StatusOK)
	if list.body["totalResults"] != float64(1) {
		t.Errorf("filter by displayName: %s", list.raw)
	}

	patch := func(ops string) response {
		t.Helper()
		return call(t, http.MethodPatch, path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`+ops+`}`)
	}
	patch(fmt.Sprintf(`[{"op": "Add", "path": "members", "value": [{"$ref": null, "value": %q}, {"$ref": null, "value": %q}]}]`, a, b)).expect(t, http.StatusNoContent)
	if m := groupMemberIDs(t, gid); !m[a] || !m[b] {
		t.Fatalf("members %v", m)
	}
	// Entra removes with path "members" and a value array: only those members go.
	patch(fmt.Sprintf(`[{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": %q}]}]`, a)).expect(t, http.StatusNoContent)
	if m := groupMemberIDs(t, gid); m[a] || !m[b] {
		t.Fatalf("members after remove %v", m)
	}
	patch(`[{"op": "Replace", "path": "displayName", "value": "`+name+`-new"}]`).expect(t, http.StatusNoContent)
	if got := groupByScimID(t, gid).Spec.DisplayName; got != name+"-new" {
		t.Errorf("displayName %q", got)
	}
	call(t, http.MethodDelete, path, nil).expect(t, http.StatusNoContent)
	call(t, http.MethodGet, path, nil).expectError(t, http.StatusNotFound, "")
}

// TestEntraUnqualifiedEnterprisePaths replays Microsoft's documented manager update, whose path
// names the enterprise attribute without its URN, the removal Entra sends for it, and other
// enterprise attributes by their bare names.
func TestEntraUnqualifiedEnterprisePaths(t *testing.T) {
	manager := createUser(t, uniq(t, "manager"), nil)
	id := createUser(t, uniq(t, "report"), nil)
	path := "/scim/v2/Users/" + id
	patch := func(ops string) {
		t.Helper()
		call(t, http.MethodPatch, path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`+ops+`}`).expect(t, http.StatusOK)
	}
	patch(fmt.Sprintf(`[{"op": "Add", "path": "manager", "value": [{"$ref": null, "value": %q}]},
		{"op": "Replace", "path": "employeeNumber", "value": "701984"},
		{"op": "Add", "path": "department", "value": "Finance"}]`, manager))
	ent := userByScimID(t, id).Spec.Enterprise
	if ent == nil || ent.Manager == nil || ent.Manager.Value != manager || ent.EmployeeNumber != "701984" || ent.Department != "Finance" {
		t.Fatalf("enterprise after unqualified paths: %+v", ent)
	}
	got := call(t, http.MethodGet, path, nil).expect(t, http.StatusOK)
	mgr := got.body[enterpriseURN].(map[string]any)["manager"].(map[string]any)
	if mgr["$ref"] != serverURL+"/scim/v2/Users/"+manager {
		t.Errorf("manager $ref %v", mgr["$ref"])
	}
	patch(`[{"op": "Remove", "path": "manager[value eq \"someone-else\"]"}]`)
	if ent := userByScimID(t, id).Spec.Enterprise; ent.Manager == nil {
		t.Error("a removal naming another manager removed the manager")
	}
	patch(fmt.Sprintf(`[{"op": "Remove", "path": "manager[value eq \"%s\"]"}]`, manager))
	if ent := userByScimID(t, id).Spec.Enterprise; ent == nil || ent.Manager != nil || ent.Department != "Finance" {
		t.Errorf("enterprise after removing the manager: %+v", ent)
	}
}
