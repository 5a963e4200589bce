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

func bulkOps(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	r := call(t, http.MethodPost, "/scim/v2/Bulk", body).expect(t, http.StatusOK)
	if s, _ := r.body["schemas"].([]any); len(s) != 1 || s[0] != "urn:ietf:params:scim:api:messages:2.0:BulkResponse" {
		t.Fatalf("schemas %v", r.body["schemas"])
	}
	var out []map[string]any
	for _, op := range r.body["Operations"].([]any) {
		out = append(out, op.(map[string]any))
	}
	return out
}

func TestBulkWithBulkIDReferences(t *testing.T) {
	userName, groupName := uniq(t, "bulk-user"), uniq(t, "bulk-group")
	// The group is listed first but references the user created later: it waits for it.
	ops := bulkOps(t, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
		"Operations": []any{
			map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g1", "data": map[string]any{
				"displayName": groupName, "members": []any{map[string]any{"type": "User", "value": "bulkId:u1"}},
			}},
			map[string]any{"method": "POST", "path": "/Users", "bulkId": "u1", "data": map[string]any{"userName": userName}},
			map[string]any{"method": "PATCH", "path": "/Users/bulkId:u1", "data": patchBody(map[string]any{"op": "replace", "path": "title", "value": "Bulk"})},
		},
	})
	if len(ops) != 3 || ops[0]["status"] != "201" || ops[1]["status"] != "201" || ops[2]["status"] != "200" {
		t.Fatalf("bulk results %v", ops)
	}
	if ops[0]["bulkId"] != "g1" || ops[0]["location"] == nil || ops[0]["version"] == nil {
		t.Errorf("result %v", ops[0])
	}
	r := call(t, http.MethodGet, "/scim/v2/Users?filter=userName+eq+%22"+userName+"%22", nil).expect(t, http.StatusOK)
	users, _ := r.body["Resources"].([]any)
	if len(users) != 1 {
		t.Fatalf("user not created: %s", r.raw)
	}
	u := users[0].(map[string]any)
	groups, _ := u["groups"].([]any)
	if u["title"] != "Bulk" || len(groups) != 1 || groups[0].(map[string]any)["display"] != groupName {
		t.Errorf("user after bulk: %v", u)
	}
}

func TestBulkFailOnErrorsAndCycles(t *testing.T) {
	ops := bulkOps(t, map[string]any{
		"failOnErrors": 1,
		"Operations": []any{
			map[string]any{"method": "POST", "path": "/Users", "bulkId": "bad", "data": map[string]any{"displayName": "no userName"}},
			map[string]any{"method": "POST", "path": "/Users", "bulkId": "never", "data": map[string]any{"userName": uniq(t, "never")}},
		},
	})
	if len(ops) != 1 || ops[0]["status"] != "400" {
		t.Fatalf("failOnErrors=1: %v", ops)
	}
	if resp, _ := ops[0]["response"].(map[string]any); resp["scimType"] != "invalidValue" {
		t.Errorf("error response %v", ops[0]["response"])
	}

	cyc := bulkOps(t, map[string]any{"Operations": []any{
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "a", "data": map[string]any{"displayName": uniq(t, "A"), "members": []any{map[string]any{"value": "bulkId:b"}}}},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "b", "data": map[string]any{"displayName": uniq(t, "B"), "members": []any{map[string]any{"value": "bulkId:a"}}}},
		map[string]any{"method": "DELETE", "path": "/Users/bulkId:missing"},
	}})
	if len(cyc) != 3 {
		t.Fatalf("results %v", cyc)
	}
	for _, op := range cyc {
		if op["status"] != "409" {
			t.Errorf("unresolvable reference answered %v", op)
		}
	}

	call(t, http.MethodPost, "/scim/v2/Bulk", map[string]any{"Operations": []any{
		map[string]any{"method": "POST", "path": "/Users", "data": map[string]any{"userName": "x"}},
	}}).expectError(t, http.StatusBadRequest, "invalidValue")
	many := make([]any, DefaultMaxBulkOperations+1)
	for i := range many {
		many[i] = map[string]any{"method": "DELETE", "path": "/Users/x"}
	}
	call(t, http.MethodPost, "/scim/v2/Bulk", map[string]any{"Operations": many}).expectError(t, http.StatusRequestEntityTooLarge, "tooMany")
	nested := bulkOps(t, map[string]any{"Operations": []any{map[string]any{"method": "POST", "path": "/Bulk", "bulkId": "n", "data": map[string]any{}}}})
	if nested[0]["status"] != "400" {
		t.Errorf("nested bulk: %v", nested)
	}
}
