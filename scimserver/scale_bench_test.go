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
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// Directory sizes of the scale benchmarks: KUBESCIM_BENCH_USERS (the users in the directory)
// and KUBESCIM_BENCH_MEMBERS (the members of the large group), e.g. 100000 for the issue's
// targets.
var (
	scaleUsers   = scaleEnv("KUBESCIM_BENCH_USERS", 2000)
	scaleMembers = scaleEnv("KUBESCIM_BENCH_MEMBERS", 2000)
)

func scaleEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// scaleDirectory is n users created straight in the API server (the benchmarks measure reads,
// not the create path), all in the SCIM server's cache when it returns. It returns their
// userNames and SCIM ids.
func scaleDirectory(b *testing.B, prefix string, n int) (userNames, ids []string) {
	b.Helper()
	ctx := context.Background()
	userNames, ids = make([]string, n), make([]string, n)
	eg, egctx := errgroup.WithContext(ctx)
	eg.SetLimit(16)
	for i := range n {
		eg.Go(func() error {
			userName := fmt.Sprintf("%s-%06d@example.com", prefix, i)
			u := &v1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.ObjectNameFor(userName)},
				Spec: v1alpha1.ScimUserSpec{UserName: userName, ExternalID: fmt.Sprintf("%s-ext-%06d", prefix, i), Active: ptr.To(true),
					DisplayName: fmt.Sprintf("Scale %06d", i), Emails: []v1alpha1.MultiValuedAttribute{{Value: userName, Primary: true}}}}
			if err := k8sClient.Create(egctx, u); err != nil {
				return err
			}
			userNames[i], ids[i] = userName, v1alpha1.ScimID(u)
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		b.Fatal(err)
	}
	// The cache has them all once the last one created answers a lookup by id.
	for _, id := range []string{ids[0], ids[n-1]} {
		eventually(b, time.Minute, func() error {
			var list v1alpha1.ScimUserList
			if err := testMgr.GetClient().List(ctx, &list, client.MatchingFields{v1alpha1.IndexUID: id}); err != nil || len(list.Items) != 1 {
				return errors.Join(err, fmt.Errorf("user %s not cached yet", id))
			}
			return nil
		})
	}
	return userNames, ids
}

func percentileMs(samples []time.Duration, p float64) float64 {
	slices.Sort(samples)
	return float64(samples[int(p*float64(len(samples)-1))].Microseconds()) / 1000
}

// BenchmarkLookupAtScale measures the lookups an IdP makes before every change
// (userName eq, externalId eq), over the whole HTTP round trip, in a directory of
// KUBESCIM_BENCH_USERS users (beyond the other tests' users), and the cost of the first and the
// last page of a walk of the directory with count=100, and of a whole such walk. It reports p50
// and p99 of the lookups, the mean of the first and of the last page, and the walk's total time
// and mean time per page (linear in the pages when every page costs the same).
func BenchmarkLookupAtScale(b *testing.B) {
	userNames, _ := scaleDirectory(b, uniq(b, "scale"), scaleUsers)
	var samples []time.Duration
	var total float64
	b.ResetTimer()
	for n := range b.N {
		i := (n * 7919) % len(userNames)
		filter := fmt.Sprintf("userName eq %q", userNames[i])
		if n%2 == 1 {
			filter = fmt.Sprintf("externalId eq %q", fmt.Sprintf("%s-ext-%06d", userNames[i][:len(userNames[i])-len("-000000@example.com")], i))
		}
		start := time.Now()
		r := call(b, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(filter), nil)
		samples = append(samples, time.Since(start))
		if r.body["totalResults"] != float64(1) {
			b.Fatalf("lookup %s: %s", filter, r.raw)
		}
	}
	b.StopTimer()
	if r := call(b, http.MethodGet, "/scim/v2/Users?count=0", nil); r.body["totalResults"] != nil {
		total, _ = r.body["totalResults"].(float64)
	}
	page := func(startIndex int) float64 {
		const rounds = 5
		var took time.Duration
		for range rounds {
			start := time.Now()
			call(b, http.MethodGet, fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=100", startIndex), nil).expect(b, http.StatusOK)
			took += time.Since(start)
		}
		return float64(took.Microseconds()) / 1000 / rounds
	}
	walkStart := time.Now()
	walked, pages := 0, 0
	for startIndex := 1; startIndex <= int(total); startIndex += 100 {
		r := call(b, http.MethodGet, fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=100", startIndex), nil).expect(b, http.StatusOK)
		resources, _ := r.body["Resources"].([]any)
		walked += len(resources)
		pages++
	}
	walkTook := time.Since(walkStart)
	if walked != int(total) {
		b.Fatalf("the walk returned %d users of %d", walked, int(total))
	}
	b.ReportMetric(percentileMs(samples, 0.50), "p50-ms")
	b.ReportMetric(percentileMs(samples, 0.99), "p99-ms")
	b.ReportMetric(page(1), "first-page-ms")
	b.ReportMetric(page(max(1, int(total)-99)), "last-page-ms")
	b.ReportMetric(walkTook.Seconds(), "walk-s")
	b.ReportMetric(float64(walkTook.Microseconds())/1000/float64(max(pages, 1)), "walk-ms/page")
	b.ReportMetric(total, "users")
}

// BenchmarkLargeGroup builds a group of KUBESCIM_BENCH_MEMBERS members with PATCH add in
// batches of 1,000, as Entra and Okta push a large group, and reports the time of the first
// and of the last batch, and the mean of GET /Groups/{id}?excludedAttributes=members on the
// full group. Each iteration builds a new group.
func BenchmarkLargeGroup(b *testing.B) {
	_, ids := scaleDirectory(b, uniq(b, "large"), scaleMembers)
	const batch = 1000
	var first, last, get time.Duration
	b.ResetTimer()
	for range b.N {
		gid := createGroup(b, uniq(b, "large-group"))
		for start := 0; start < len(ids); start += batch {
			var values []any
			for _, id := range ids[start:min(start+batch, len(ids))] {
				values = append(values, map[string]any{"value": id})
			}
			began := time.Now()
			call(b, http.MethodPatch, "/scim/v2/Groups/"+gid,
				patchBody(map[string]any{"op": "add", "path": "members", "value": values})).expect(b, http.StatusNoContent)
			took := time.Since(began)
			if start == 0 {
				first += took
			}
			if start+batch >= len(ids) {
				last += took
			}
		}
		const rounds = 20
		began := time.Now()
		for range rounds {
			r := call(b, http.MethodGet, "/scim/v2/Groups/"+gid+"?excludedAttributes=members", nil).expect(b, http.StatusOK)
			if _, ok := r.body["members"]; ok {
				b.Fatalf("members returned despite excludedAttributes: %.200s", r.raw)
			}
		}
		get += time.Since(began) / rounds
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(first.Microseconds())/1000/n, "first-batch-ms")
	b.ReportMetric(float64(last.Microseconds())/1000/n, "last-batch-ms")
	b.ReportMetric(float64(get.Microseconds())/1000/n, "get-excluding-members-ms")
}
