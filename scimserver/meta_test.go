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
	"time"
)

// TestMetaCreatedAndLastModified: a new resource has meta.created == meta.lastModified
// (RFC 7643 §3.1); created never moves, and lastModified is never before it.
func TestMetaCreatedAndLastModified(t *testing.T) {
	stamps := func(body map[string]any) (created, lastModified time.Time) {
		t.Helper()
		meta, _ := body["meta"].(map[string]any)
		var err error
		if created, err = time.Parse(time.RFC3339Nano, meta["created"].(string)); err != nil {
			t.Fatal(err)
		}
		if lastModified, err = time.Parse(time.RFC3339Nano, meta["lastModified"].(string)); err != nil {
			t.Fatal(err)
		}
		return created, lastModified
	}
	member := createUser(t, uniq(t, "member"), nil)
	for _, tc := range []struct {
		kind   string
		create map[string]any
		change map[string]any
	}{
		{"Users", map[string]any{"userName": uniq(t, "stamped")}, patchBody(map[string]any{"op": "replace", "path": "title", "value": "x"})},
		{"Groups", map[string]any{"displayName": uniq(t, "stamped"), "members": members(member)},
			patchBody(map[string]any{"op": "replace", "path": "displayName", "value": uniq(t, "renamed")})},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			r := call(t, http.MethodPost, "/scim/v2/"+tc.kind, tc.create).expect(t, http.StatusCreated)
			created, lastModified := stamps(r.body)
			if !created.Equal(lastModified) {
				t.Errorf("on create: created %s, lastModified %s; want them equal", created, lastModified)
			}
			path := "/scim/v2/" + tc.kind + "/" + r.str("id")
			if c, _ := stamps(call(t, http.MethodGet, path, nil).expect(t, http.StatusOK).body); !c.Equal(created) {
				t.Errorf("GET: created %s, want %s", c, created)
			}
			call(t, http.MethodPatch, path, tc.change).expect(t, map[string]int{"Users": http.StatusOK, "Groups": http.StatusNoContent}[tc.kind])
			c, m := stamps(call(t, http.MethodGet, path, nil).expect(t, http.StatusOK).body)
			if !c.Equal(created) || m.Before(created) || !m.After(lastModified) {
				t.Errorf("after an update: created %s (was %s), lastModified %s (was %s)", c, created, m, lastModified)
			}
		})
	}
}
