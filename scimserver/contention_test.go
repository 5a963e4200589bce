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
	"slices"
	"sync"
	"testing"
	"time"
)

// memberContention sends one single-member PATCH add per user, all at once, to the group gid
// and returns each request's status and duration.
func memberContention(t testing.TB, gid string, ids []string) ([]int, []time.Duration) {
	t.Helper()
	codes := make([]int, len(ids))
	took := make([]time.Duration, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			start := time.Now()
			r := call(t, http.MethodPatch, "/scim/v2/Groups/"+gid,
				patchBody(map[string]any{"op": "add", "path": "members", "value": members(id)}))
			codes[i], took[i] = r.status, time.Since(start)
		})
	}
	wg.Wait()
	return codes, took
}

func contentionUsers(t testing.TB, n int) []string {
	t.Helper()
	ids := make([]string, n)
	prefix := uniq(t, "contend")
	for i := range ids {
		ids[i] = createUser(t, fmt.Sprintf("%s-%03d", prefix, i), nil)
	}
	return ids
}

// TestGroupMemberContention: 100 concurrent single-member adds to one group all succeed, all
// users are members afterwards, and the group's ETag and lastModified moved.
func TestGroupMemberContention(t *testing.T) {
	ids := contentionUsers(t, 100)
	gid := createGroup(t, uniq(t, "contended"))
	before := call(t, http.MethodGet, "/scim/v2/Groups/"+gid, nil).expect(t, http.StatusOK)
	codes, _ := memberContention(t, gid, ids)
	for i, c := range codes {
		if c != http.StatusNoContent {
			t.Errorf("PATCH adding %s: status %d, want 204", ids[i], c)
		}
	}
	after := call(t, http.MethodGet, "/scim/v2/Groups/"+gid, nil).expect(t, http.StatusOK)
	got := memberIDs(after.body)
	for _, id := range ids {
		if !got[id] {
			t.Errorf("user %s is not a member", id)
		}
	}
	if after.header.Get("ETag") == before.header.Get("ETag") {
		t.Errorf("ETag %s did not change with the members", after.header.Get("ETag"))
	}
	m0, _ := before.body["meta"].(map[string]any)
	m1, _ := after.body["meta"].(map[string]any)
	if m1["lastModified"].(string) <= m0["lastModified"].(string) {
		t.Errorf("lastModified %v did not move past %v", m1["lastModified"], m0["lastModified"])
	}
}

// BenchmarkGroupMemberContention measures 100 concurrent single-member PATCH adds to one group
// (an IdP pushing a group's members one request each) and reports the latency of one PATCH.
func BenchmarkGroupMemberContention(b *testing.B) {
	ids := contentionUsers(b, 100)
	var all []time.Duration
	failed := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		gid := createGroup(b, uniq(b, "contended"))
		b.StartTimer()
		codes, took := memberContention(b, gid, ids)
		all = append(all, took...)
		for _, c := range codes {
			if c != http.StatusNoContent {
				failed++
			}
		}
	}
	slices.Sort(all)
	b.ReportMetric(all[len(all)/2].Seconds()*1000, "p50-ms/patch")
	b.ReportMetric(all[len(all)*99/100].Seconds()*1000, "p99-ms/patch")
	b.ReportMetric(float64(failed), "failed")
}

// TestConcurrentUserUpdatesRetryConflicts: concurrent PATCHes of one user without If-Match
// conflict on its resourceVersion; each is re-read and re-applied with backoff, so all succeed
// and none is lost. With If-Match a conflict is a 412 and never retried (users_test.go).
func TestConcurrentUserUpdatesRetryConflicts(t *testing.T) {
	id := createUser(t, uniq(t, "contended-user"), nil)
	const n = 4
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			codes[i] = call(t, http.MethodPatch, "/scim/v2/Users/"+id, patchBody(map[string]any{
				"op": "add", "path": "emails", "value": []any{map[string]any{"value": fmt.Sprintf("u%d@example.com", i), "type": fmt.Sprintf("t%d", i)}},
			})).status
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("PATCH %d: status %d, want 200", i, c)
		}
	}
	if got := len(userByScimID(t, id).Spec.Emails); got != n {
		t.Errorf("%d emails stored, want %d: an update was lost", got, n)
	}
}
