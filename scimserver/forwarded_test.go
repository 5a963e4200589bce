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
	"testing"
)

// TestLocationsTrustForwardedHeadersOnlyWhenConfigured: meta.location and every $ref (a user's
// groups, a group's members, the manager, bulk results, discovery documents) come from
// --scim-external-url, else from the request, where X-Forwarded-Proto and X-Forwarded-Host
// count only behind a trusted proxy.
func TestLocationsTrustForwardedHeadersOnlyWhenConfigured(t *testing.T) {
	boss := createUser(t, uniq(t, "boss"), nil)
	member := createUser(t, uniq(t, "member"), map[string]any{
		enterpriseURN: map[string]any{"manager": map[string]any{"value": boss}},
	})
	group := createGroup(t, uniq(t, "located"), member)
	forged := []string{"X-Forwarded-Proto: https", "X-Forwarded-Host: attacker.example"}

	_, plain := newTestServer(t, Options{})
	_, trusting := newTestServer(t, Options{TrustForwardedHeaders: true})
	_, external := newTestServer(t, Options{ExternalURL: "https://scim.example.com/", TrustForwardedHeaders: true})
	tests := []struct {
		name, base string
		headers    []string
		want       string
	}{
		{"untrusted forwarded headers are ignored", plain, forged, plain + BasePath},
		{"a trusted proxy's headers count (its own, the last ones)", trusting,
			[]string{"X-Forwarded-Proto: http", "X-Forwarded-Proto: https", "X-Forwarded-Host: attacker.example, scim.internal.example"},
			"https://scim.internal.example" + BasePath},
		{"a forwarded host that is not a host is ignored", trusting, []string{"X-Forwarded-Host: evil.example/path"},
			trusting + BasePath},
		{"the external URL wins over Host and forwarded headers", external, append(forged, "Host: other.example"),
			"https://scim.example.com" + BasePath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get := func(path string) response {
				t.Helper()
				return callURL(t, tt.base, testToken, http.MethodGet, path, nil, tt.headers...).expect(t, http.StatusOK)
			}
			var refs []string
			u := get("/scim/v2/Users/" + member)
			refs = append(refs, location(u.body))
			for _, g := range u.body["groups"].([]any) {
				refs = append(refs, g.(map[string]any)["$ref"].(string))
			}
			mgr := u.body[enterpriseURN].(map[string]any)["manager"].(map[string]any)
			refs = append(refs, mgr["$ref"].(string))
			g := get("/scim/v2/Groups/" + group)
			refs = append(refs, location(g.body))
			for _, m := range g.body["members"].([]any) {
				refs = append(refs, m.(map[string]any)["$ref"].(string))
			}
			refs = append(refs, location(get("/scim/v2/ServiceProviderConfig").body))
			bulk := callURL(t, tt.base, testToken, http.MethodPost, "/scim/v2/Bulk", map[string]any{"Operations": []any{
				map[string]any{"method": "PATCH", "path": "/Users/" + member, "data": patchBody(map[string]any{"op": "replace", "path": "title", "value": tt.name})},
			}}, tt.headers...)
			refs = append(refs, bulkResults(t, bulk)[0]["location"].(string))
			if len(refs) != 7 {
				t.Fatalf("collected %d references, want 7: %v", len(refs), refs)
			}
			for _, ref := range refs {
				if !strings.HasPrefix(ref, tt.want+"/") {
					t.Errorf("reference %q, want it under %s", ref, tt.want)
				}
			}
		})
	}
}

func location(body map[string]any) string {
	meta, _ := body["meta"].(map[string]any)
	loc, _ := meta["location"].(string)
	return loc
}
