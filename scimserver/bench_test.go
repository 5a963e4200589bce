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
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/scimserver/store"
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

// BenchmarkUserCreate compares SCIM POST /Users with a raw API create of the same ScimUser, at
// concurrency 1 and 16: each worker alternates one SCIM create and one raw create, so both meet
// the same load on a shared machine. The raw create carries the metadata SCIM writes
// (store.StampNew): both write the same object. It reports the mean latency of each and the throughput
// ratio scim/raw (raw latency over SCIM latency; issue #19 asks for >= 0.8).
func BenchmarkUserCreate(b *testing.B) {
	for _, workers := range []int{1, 16} {
		b.Run(fmt.Sprintf("c%d", workers), func(b *testing.B) {
			prefix := uniq(b, "bench-create")
			var next, scimNanos, rawNanos atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						start := time.Now()
						userName := fmt.Sprintf("%s-scim-%06d", prefix, i)
						if r := call(b, http.MethodPost, "/scim/v2/Users", map[string]any{"userName": userName}); r.status != http.StatusCreated {
							b.Errorf("SCIM create: %d %s", r.status, r.raw)
						}
						scimNanos.Add(int64(time.Since(start)))
						start = time.Now()
						userName = fmt.Sprintf("%s-raw-%06d", prefix, i)
						u := &v1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.ObjectNameFor(userName)},
							Spec: v1alpha1.ScimUserSpec{UserName: userName}}
						// The same object the SCIM create writes: its metadata too.
						store.StampNew(store.WithChangedBy(context.Background(), "okta"), u) // testToken's name
						if err := k8sClient.Create(context.Background(), u); err != nil {
							b.Errorf("raw create: %v", err)
						}
						rawNanos.Add(int64(time.Since(start)))
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			n := float64(b.N)
			b.ReportMetric(float64(scimNanos.Load())/n/1e6, "scim-ms/create")
			b.ReportMetric(float64(rawNanos.Load())/n/1e6, "raw-ms/create")
			b.ReportMetric(float64(rawNanos.Load())/float64(scimNanos.Load()), "scim/raw")
		})
	}
}
