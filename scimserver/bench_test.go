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

// BenchmarkIndexedUserNameFilter measures Okta's and Entra's lookup
// (GET /Users?filter=userName eq "x"), served from the userName index.
func BenchmarkIndexedUserNameFilter(b *testing.B) {
	userName := uniq(b, "bench-lookup")
	createUser(b, userName, nil)
	path := "/scim/v2/Users?filter=" + url.QueryEscape(fmt.Sprintf("userName eq %q", userName))
	b.ResetTimer()
	for range b.N {
		r := call(b, http.MethodGet, path, nil)
		if r.body["totalResults"] != float64(1) {
			b.Fatalf("lookup: %s", r.raw)
		}
	}
}

// BenchmarkGroupPatch100Members measures one PATCH that adds 100 members and one that removes
// them again (each iteration does both).
func BenchmarkGroupPatch100Members(b *testing.B) {
	ids := make([]string, 100)
	prefix := uniq(b, "bench-m")
	for i := range ids {
		ids[i] = createUser(b, fmt.Sprintf("%s-%03d", prefix, i), nil)
	}
	gid := createGroup(b, uniq(b, "bench-group"))
	add := patchBody(map[string]any{"op": "add", "path": "members", "value": members(ids...)})
	remove := patchBody(map[string]any{"op": "remove", "path": "members", "value": members(ids...)})
	b.ResetTimer()
	for range b.N {
		call(b, http.MethodPatch, "/scim/v2/Groups/"+gid, add).expect(b, http.StatusNoContent)
		call(b, http.MethodPatch, "/scim/v2/Groups/"+gid, remove).expect(b, http.StatusNoContent)
	}
}
