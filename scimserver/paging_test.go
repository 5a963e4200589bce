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
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/scimserver/store"
)

// liveUserIDs are the SCIM ids of the live users on the API server, in the default list order.
func liveUserIDs(t testing.TB) []string {
	t.Helper()
	var list v1alpha1.ScimUserList
	if err := k8sClient.List(context.Background(), &list); err != nil {
		t.Fatalf("listing users: %v", err)
	}
	var users []client.Object
	for i := range list.Items {
		if list.Items[i].DeletionTimestamp == nil {
			users = append(users, &list.Items[i])
		}
	}
	slices.SortFunc(users, store.CompareDefaultOrder)
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = v1alpha1.ScimID(u)
	}
	return ids
}

// kubectlUser creates a ScimUser straight through the API server, as kubectl would.
func kubectlUser(t testing.TB, name string) *v1alpha1.ScimUser {
	t.Helper()
	u := &v1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ScimUserSpec{UserName: name + "@example.com"}}
	if err := k8sClient.Create(context.Background(), u); err != nil {
		t.Fatalf("creating ScimUser %s: %v", name, err)
	}
	return u
}

// listPage is one unfiltered page: the ids of its resources and its totalResults.
func listPage(t testing.TB, startIndex, count int) ([]string, int) {
	t.Helper()
	r := call(t, http.MethodGet, fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=%d&attributes=id", startIndex, count), nil).expect(t, http.StatusOK)
	return pageIDs(t, r)
}

func pageIDs(t testing.TB, r response) ([]string, int) {
	t.Helper()
	total, _ := r.body["totalResults"].(float64)
	resources, ok := r.body["Resources"].([]any)
	if !ok {
		t.Fatalf("no Resources array: %.300s", r.raw)
	}
	if r.body["itemsPerPage"] != float64(len(resources)) {
		t.Fatalf("itemsPerPage %v for %d resources", r.body["itemsPerPage"], len(resources))
	}
	ids := make([]string, len(resources))
	for i, res := range resources {
		ids[i], _ = res.(map[string]any)["id"].(string)
	}
	return ids, int(total)
}

// walk pages through the users from startIndex with count until the end.
func walk(t testing.TB, startIndex, count int) []string {
	t.Helper()
	var ids []string
	for {
		page, total := listPage(t, startIndex, count)
		ids = append(ids, page...)
		startIndex += count
		if startIndex > total {
			return ids
		}
	}
}

// TestListPageWalk: a walk with count=5 returns every user exactly once, in creation order; a
// user created and one deleted through the API server behind the walk's position (as kubectl
// would, mid-walk) are reflected in its later pages: the new one once, the deleted one never.
// POST /Users/.search without a filter pages the same way.
func TestListPageWalk(t *testing.T) {
	prefix := uniq(t, "walk")
	var ours []*v1alpha1.ScimUser
	for i := range 12 {
		ours = append(ours, kubectlUser(t, fmt.Sprintf("%s-%02d", prefix, i)))
	}
	const count = 5
	var want []string
	eventually(t, time.Minute, func() error {
		want = liveUserIDs(t)
		if got := walk(t, 1, count); !slices.Equal(got, want) {
			return fmt.Errorf("walk of %d ids, want %d (the cache may lag)", len(got), len(want))
		}
		return nil
	})
	if !slices.Contains(want, v1alpha1.ScimID(ours[11])) {
		t.Fatalf("the walk misses the last user created")
	}

	first, _ := listPage(t, 1, count)
	gone := ours[11]
	if err := k8sClient.Delete(context.Background(), gone); err != nil {
		t.Fatal(err)
	}
	added := kubectlUser(t, prefix+"-zz")
	// The cache has caught up once the pages hold the new user and not the deleted one. (The
	// new one is not necessarily last: creation times have second precision.)
	eventually(t, time.Minute, func() error {
		ids := walk(t, 1, count)
		if !slices.Contains(ids, v1alpha1.ScimID(added)) || slices.Contains(ids, v1alpha1.ScimID(gone)) {
			return fmt.Errorf("the pages do not show the create and the delete yet")
		}
		return nil
	})
	got := append(first, walk(t, 1+count, count)...)
	want = liveUserIDs(t)
	if !slices.Equal(got, want) {
		t.Fatalf("walk across the changes: %d ids, want %d", len(got), len(want))
	}
	if slices.Contains(got, v1alpha1.ScimID(gone)) || !slices.Contains(got, v1alpha1.ScimID(added)) {
		t.Fatalf("the walk lists the deleted user or misses the new one")
	}

	search := call(t, http.MethodPost, "/scim/v2/Users/.search", map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
		"attributes": []string{"id"}, "startIndex": 3, "count": count,
	}).expect(t, http.StatusOK)
	searched, total := pageIDs(t, search)
	if total != len(want) || !slices.Equal(searched, want[2:min(len(want), 2+count)]) {
		t.Fatalf("POST /Users/.search page %v of %d, want %v of %d", searched, total, want[2:min(len(want), 2+count)], len(want))
	}
}

// TestListPageBounds: startIndex past the end gives an empty page, count=0 none, a startIndex
// below 1 is 1; totalResults is exact in each.
func TestListPageBounds(t *testing.T) {
	prefix := uniq(t, "bounds")
	for i := range 3 {
		kubectlUser(t, fmt.Sprintf("%s-%02d", prefix, i))
	}
	var want []string
	eventually(t, time.Minute, func() error {
		want = liveUserIDs(t)
		if _, total := listPage(t, 1, 0); total != len(want) {
			return fmt.Errorf("totalResults %d, want %d", total, len(want))
		}
		return nil
	})
	for _, tc := range []struct {
		query         string
		wantIDs       []string
		wantStartAt   float64
		wantResources int
	}{
		{fmt.Sprintf("startIndex=%d&count=10", len(want)+1), nil, float64(len(want) + 1), 0},
		{fmt.Sprintf("startIndex=%d&count=10", len(want)+1000), nil, float64(len(want) + 1000), 0},
		{"count=0", nil, 1, 0},
		{"startIndex=0&count=2", want[:2], 1, 2},
		{"startIndex=-5&count=1", want[:1], 1, 1},
		{fmt.Sprintf("startIndex=%d&count=10", len(want)), want[len(want)-1:], float64(len(want)), 1},
	} {
		r := call(t, http.MethodGet, "/scim/v2/Users?attributes=id&"+tc.query, nil).expect(t, http.StatusOK)
		ids, total := pageIDs(t, r)
		if total != len(want) || r.body["startIndex"] != tc.wantStartAt || len(ids) != tc.wantResources || (tc.wantIDs != nil && !slices.Equal(ids, tc.wantIDs)) {
			t.Errorf("%s: ids %v, totalResults %d, startIndex %v; want %v, %d, %v", tc.query, ids, total, r.body["startIndex"], tc.wantIDs, len(want), tc.wantStartAt)
		}
	}
}

// TestListPageReadsOwnWrites: a group created through SCIM is on the unfiltered pages as soon as
// the create returns; once deleted (a finalizer may still hold the object), it is on none. (Not
// necessarily on the last page: creation times have second precision, and other tests create
// groups in the same second.)
func TestListPageReadsOwnWrites(t *testing.T) {
	allGroups := func() ([]string, int) {
		r := call(t, http.MethodGet, "/scim/v2/Groups?count=0", nil).expect(t, http.StatusOK)
		_, total := pageIDs(t, r)
		r = call(t, http.MethodGet, fmt.Sprintf("/scim/v2/Groups?startIndex=1&count=%d&attributes=id", max(total, 1)), nil).expect(t, http.StatusOK)
		return pageIDs(t, r)
	}
	id := createGroup(t, uniq(t, "paged-group"))
	ids, total := allGroups()
	if !slices.Contains(ids, id) || len(ids) != total {
		t.Fatalf("the pages right after the create hold %d of %d groups, without %s: %v", len(ids), total, id, ids)
	}
	call(t, http.MethodDelete, "/scim/v2/Groups/"+id, nil).expect(t, http.StatusNoContent)
	if after, _ := allGroups(); slices.Contains(after, id) {
		t.Fatalf("after the delete the pages still hold %s", id)
	}
}

// TestListPageConcurrent: pages read while users are created and deleted (run with -race) are
// well-formed: never more than count resources, never a resource twice.
func TestListPageConcurrent(t *testing.T) {
	prefix := uniq(t, "busy")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var eg errgroup.Group
	eg.Go(func() error {
		defer cancel()
		for i := range 20 {
			name := fmt.Sprintf("%s-%02d", prefix, i)
			u := &v1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ScimUserSpec{UserName: name + "@example.com"}}
			if err := k8sClient.Create(context.Background(), u); err != nil {
				return err
			}
			if i%2 == 0 {
				if err := k8sClient.Delete(context.Background(), u); err != nil {
					return err
				}
			}
		}
		return nil
	})
	pages := 0
	for ctx.Err() == nil || pages < 10 {
		ids, total := listPage(t, 1+pages%3, 7)
		if len(ids) > 7 || total < len(ids) {
			t.Fatalf("page of %d ids of %d", len(ids), total)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("id %s twice in one page", id)
			}
			seen[id] = true
		}
		pages++
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
}

// listCountingCache counts the lists of every ScimUser (no field selector) of a cache.
type listCountingCache struct {
	client.Reader
	wholeLists *atomic.Int64
}

func (c listCountingCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	lo := (&client.ListOptions{}).ApplyOptions(opts)
	if _, users := list.(*v1alpha1.ScimUserList); users && (lo.FieldSelector == nil || lo.FieldSelector.Empty()) {
		c.wholeLists.Add(1)
	}
	return c.Reader.List(ctx, list, opts...)
}

// TestListPageReadsOnlyThePage: once the store follows the cache's events, an unfiltered page
// (GET and POST .search) never lists the whole directory; a filter still does (it runs on every
// user), and a store that does not follow the events falls back to listing and sorting all.
func TestListPageReadsOnlyThePage(t *testing.T) {
	var wholeLists atomic.Int64
	s, base := newTestServer(t, Options{})
	repo := testRepo(store.Clients{Cache: listCountingCache{Reader: testMgr.GetCache(), wholeLists: &wholeLists}})
	s.repo = repo
	get := func(path string) response {
		return callURL(t, base, testToken, http.MethodGet, path, nil).expect(t, http.StatusOK)
	}
	// Not following yet: the page sorts every user, as before.
	fallback, fallbackTotal := pageIDs(t, get("/scim/v2/Users?startIndex=2&count=3&attributes=id"))
	if wholeLists.Load() == 0 {
		t.Fatal("a store that does not follow the cache did not list the users")
	}
	if err := repo.FollowCacheEvents(context.Background(), testMgr.GetCache()); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, func() error {
		wholeLists.Store(0)
		ids, total := pageIDs(t, get("/scim/v2/Users?startIndex=2&count=3&attributes=id"))
		if wholeLists.Load() != 0 {
			return fmt.Errorf("the page listed the whole directory (the order may still be loading)")
		}
		if total != fallbackTotal || !slices.Equal(ids, fallback) {
			return fmt.Errorf("ordered page %v of %d, sorted page %v of %d", ids, total, fallback, fallbackTotal)
		}
		return nil
	})
	callURL(t, base, testToken, http.MethodPost, "/scim/v2/Users/.search", map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "count": 3,
	}).expect(t, http.StatusOK)
	if n := wholeLists.Load(); n != 0 {
		t.Errorf("POST /Users/.search without a filter listed the whole directory %d times", n)
	}
	callURL(t, base, testToken, http.MethodPost, "/scim/v2/.search", map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "count": 3,
	}).expect(t, http.StatusOK)
	if n := wholeLists.Load(); n != 0 {
		t.Errorf("POST /.search without a filter listed a whole collection %d times", n)
	}
	get("/scim/v2/Users?count=3&filter=" + url.QueryEscape(`userName sw "a"`))
	if wholeLists.Load() == 0 {
		t.Error("a filter that no index serves did not list the users: the counter counts nothing")
	}
}

// TestRootSearchPagesUsersThenGroups: POST /.search without a filter pages over the Users, then
// the Groups, each in its default order; totalResults counts both.
func TestRootSearchPagesUsersThenGroups(t *testing.T) {
	prefix := uniq(t, "root")
	kubectlUser(t, prefix+"-user")
	call(t, http.MethodPost, "/scim/v2/Groups", map[string]any{"displayName": prefix + "-group"}).expect(t, http.StatusCreated)
	eventually(t, time.Minute, func() error {
		users, userTotal := pageIDs(t, call(t, http.MethodGet, "/scim/v2/Users?attributes=id&count=1000", nil).expect(t, http.StatusOK))
		groups, groupTotal := pageIDs(t, call(t, http.MethodGet, "/scim/v2/Groups?attributes=id&count=1000", nil).expect(t, http.StatusOK))
		if userTotal == 0 || groupTotal == 0 || len(users) != userTotal || len(groups) != groupTotal {
			return fmt.Errorf("%d of %d users, %d of %d groups: the test needs a page of each", len(users), userTotal, len(groups), groupTotal)
		}
		// The page across the boundary: the last user, then the first group.
		root, total := pageIDs(t, call(t, http.MethodPost, "/scim/v2/.search", map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
			"attributes": []string{"id"}, "startIndex": userTotal, "count": 2,
		}).expect(t, http.StatusOK))
		if want := []string{users[userTotal-1], groups[0]}; total != userTotal+groupTotal || !slices.Equal(root, want) {
			return fmt.Errorf("root page %v of %d, want %v of %d", root, total, want, userTotal+groupTotal)
		}
		return nil
	})
}
