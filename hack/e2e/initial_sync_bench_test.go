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

package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/hack/devcluster"
)

// Scale of BenchmarkInitialSync: KUBESCIM_BENCH_SYNC_USERS users (default 1,000), a tenth as
// many groups (at least 100), each user in 3-5 of them; the first 100 groups are bound to edit
// in one of 20 namespaces each.
var initialSyncUsers = benchEnvInt("KUBESCIM_BENCH_SYNC_USERS", 1000)

const (
	initialSyncClients       = 8
	initialSyncBoundGroups   = 100
	initialSyncNamespaces    = 20
	initialSyncMembersPerOp  = 100 // members per PATCH add, as Okta and Entra batch them
	initialSyncConvergePoll  = 100 * time.Millisecond
	initialSyncConvergeLimit = 30 * time.Minute
)

func initialSyncGroups() int { return max(initialSyncBoundGroups, initialSyncUsers/10) }

// initialSyncGroupsOf returns the 3-5 distinct groups user i is in.
func initialSyncGroupsOf(i int) []int {
	groups := initialSyncGroups()
	out := make([]int, 0, 5)
	for k := range 3 + i%3 {
		if g := (i*7 + k*(groups/5+1)) % groups; !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// BenchmarkInitialSync is an IdP's first push into an empty kubescim (the real binary, both
// components, on a dev cluster whose bindings already exist): 8 clients create every user, then
// every group, then add the members in PATCHes of up to 100, as Okta and Entra do. It reports
// the push's duration (push-s) and request rate (requests/s), the time from the first request
// until every RoleBinding holds exactly the users it should (converged-s), and how long after
// the last SCIM answer that was (after-push-ms). The SCIM rate limit is off: an IdP's own pace
// is the limit in production.
func BenchmarkInitialSync(b *testing.B) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	tmp := b.TempDir()
	binary := buildKubescim(b, root, tmp)
	var pushSum, convergedSum, afterSum, rateSum float64
	for range b.N {
		cluster, err := devcluster.Start(ctx, devcluster.Options{Dir: b.TempDir(),
			CRDDirs: []string{filepath.Join(root, "config", "crd", "bases")}})
		if err != nil {
			b.Fatal(err)
		}
		admin, err := client.New(cluster.Config, client.Options{Scheme: adminScheme(b)})
		if err != nil {
			b.Fatal(err)
		}
		wantSubjects := prepareInitialSync(b, admin)
		kubescim := benchProcess(b, binary, "kubescim", cluster.KubeconfigPath, "--scim-rate-limit=0")
		waitFor(b, "kubescim ready", 2*time.Minute, kubescim.ready)

		start := time.Now()
		requests := pushInitialSync(b, kubescim)
		pushed := time.Now()
		waitFor(b, "every RoleBinding correct", initialSyncConvergeLimit, func() bool {
			if managedSubjects(b, admin) == wantSubjects {
				return true
			}
			time.Sleep(initialSyncConvergePoll)
			return false
		})
		converged := time.Now()
		pushSum += pushed.Sub(start).Seconds()
		convergedSum += converged.Sub(start).Seconds()
		afterSum += float64(converged.Sub(pushed).Milliseconds())
		rateSum += float64(requests) / pushed.Sub(start).Seconds()
		kubescim.terminate(30 * time.Second)
		if err := cluster.Stop(); err != nil {
			b.Error(err)
		}
	}
	n := float64(b.N)
	b.ReportMetric(pushSum/n, "push-s")
	b.ReportMetric(convergedSum/n, "converged-s")
	b.ReportMetric(afterSum/n, "after-push-ms")
	b.ReportMetric(rateSum/n, "requests/s")
	b.ReportMetric(float64(initialSyncUsers), "users")
	b.ReportMetric(float64(initialSyncGroups()), "groups")
}

// prepareInitialSync creates the namespaces and the bindings, as a platform team has them
// before the IdP's first push, and returns how many subjects the RoleBindings will hold.
func prepareInitialSync(b *testing.B, admin client.Client) int {
	ctx := b.Context()
	for i := range initialSyncNamespaces {
		if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sync-%d", i)}}); err != nil {
			b.Fatal(err)
		}
	}
	for g := range initialSyncBoundGroups {
		name := fmt.Sprintf("sync-group-%d", g)
		if err := admin.Create(ctx, &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: scimv1.ScimGroupBindingSpec{Group: name, RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "edit"},
				Namespaces: []string{fmt.Sprintf("sync-%d", g%initialSyncNamespaces)}}}); err != nil {
			b.Fatal(err)
		}
	}
	want := 0
	for i := range initialSyncUsers {
		for _, g := range initialSyncGroupsOf(i) {
			if g < initialSyncBoundGroups {
				want++
			}
		}
	}
	return want
}

// pushInitialSync sends the IdP's first push with initialSyncClients clients and returns the
// number of requests; any answer but success fails the benchmark.
func pushInitialSync(b *testing.B, r *replica) int {
	p := newIDP(benchToken)
	p.client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: initialSyncClients}}
	var requests atomic.Int64
	run := func(jobs int, do func(int) answer) []string {
		ids := make([]string, jobs)
		var next atomic.Int64
		var wg sync.WaitGroup
		for range initialSyncClients {
			wg.Go(func() {
				for j := int(next.Add(1)) - 1; j < jobs; j = int(next.Add(1)) - 1 {
					a := do(j)
					requests.Add(1)
					if !a.ok() {
						b.Errorf("%s", a)
						return
					}
					if a.method == http.MethodPost {
						ids[j] = id(a)
					}
				}
			})
		}
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
		return ids
	}
	users := run(initialSyncUsers, func(i int) answer { return p.createUser(r, fmt.Sprintf("sync-%06d@example.com", i)) })
	groups := run(initialSyncGroups(), func(g int) answer { return p.createGroup(r, fmt.Sprintf("sync-group-%d", g)) })
	members := make([][]string, len(groups))
	for i, u := range users {
		for _, g := range initialSyncGroupsOf(i) {
			members[g] = append(members[g], u)
		}
	}
	type batch struct {
		group string
		users []string
	}
	var batches []batch
	for g, ms := range members {
		for len(ms) > 0 {
			n := min(len(ms), initialSyncMembersPerOp)
			batches = append(batches, batch{groups[g], ms[:n]})
			ms = ms[n:]
		}
	}
	run(len(batches), func(k int) answer {
		values := make([]map[string]any, len(batches[k].users))
		for i, u := range batches[k].users {
			values[i] = map[string]any{"value": u}
		}
		return p.send(r, http.MethodPatch, "/Groups/"+batches[k].group, patchOp("add", "members", values))
	})
	return int(requests.Load())
}

// managedSubjects counts the subjects of every RoleBinding kubescim manages.
func managedSubjects(b *testing.B, admin client.Client) int {
	var rbs rbacv1.RoleBindingList
	if err := admin.List(b.Context(), &rbs, client.MatchingLabels{scimv1.ManagedByLabel: scimv1.ManagedByValue}); err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, rb := range rbs.Items {
		n += len(rb.Subjects)
	}
	return n
}
