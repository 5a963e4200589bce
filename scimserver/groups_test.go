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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

const patchOpURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

func patchBody(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, op := range ops {
		list[i] = op
	}
	return map[string]any{"schemas": []string{patchOpURN}, "Operations": list}
}

func members(ids ...string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"value": id}
	}
	return out
}

// bulkUsers creates n users directly through the API server (faster than SCIM) and waits until
// the SCIM server sees them all; it returns their SCIM ids.
func bulkUsers(t *testing.T, prefix string, n int) []string {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			userName := fmt.Sprintf("%s-%04d", prefix, i)
			u := &v1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.ObjectNameFor(userName)}, Spec: v1alpha1.ScimUserSpec{UserName: userName}}
			if err := k8sClient.Create(ctx, u); err != nil {
				t.Errorf("creating %s: %v", userName, err)
				return
			}
			ids[i] = string(u.UID)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	eventually(t, 20*time.Second, func() error {
		r := call(t, http.MethodGet, "/scim/v2/Users?count=0&filter="+url.QueryEscape(fmt.Sprintf("userName sw %q", prefix)), nil)
		if r.body["totalResults"] != float64(n) {
			return fmt.Errorf("SCIM sees %v of %d users", r.body["totalResults"], n)
		}
		return nil
	})
	return ids
}

// memberNames lists, from the API server, the SCIM ids of the group's direct members.
func groupMemberIDs(t *testing.T, groupID string) map[string]bool {
	t.Helper()
	g := groupByScimID(t, groupID)
	var users v1alpha1.ScimUserList
	if err := k8sClient.List(context.Background(), &users); err != nil {
		t.Fatal(err)
	}
	var groups v1alpha1.ScimGroupList
	if err := k8sClient.List(context.Background(), &groups); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, u := range users.Items {
		for _, n := range u.Spec.MemberOf {
			if n == g.Name && u.DeletionTimestamp == nil {
				out[v1alpha1.ScimID(&u)] = true
			}
		}
	}
	for _, sub := range groups.Items {
		for _, n := range sub.Spec.MemberOf {
			if n == g.Name && sub.DeletionTimestamp == nil {
				out[v1alpha1.ScimID(&sub)] = true
			}
		}
	}
	return out
}

func TestGroupLifecycle(t *testing.T) {
	alice := createUser(t, uniq(t, "alice"), nil)
	bob := createUser(t, uniq(t, "bob"), nil)
	name := uniq(t, "Admins")
	created := call(t, http.MethodPost, "/scim/v2/Groups", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": name,
		"externalId":  "grp-ext",
		"members":     []any{map[string]any{"value": alice, "display": "Alice", "$ref": nil}},
	}).expect(t, http.StatusCreated)
	id := created.str("id")
	if !memberIDs(created.body)[alice] || created.header.Get("ETag") == "" {
		t.Fatalf("create answer %s", created.raw)
	}
	g := groupByScimID(t, id)
	if g.Name != v1alpha1.ObjectNameFor(name) || len(g.Finalizers) != 1 || g.Finalizers[0] != v1alpha1.GroupFinalizer {
		t.Errorf("group object %s finalizers %v", g.Name, g.Finalizers)
	}
	if g.Annotations[v1alpha1.ChangedByAnnotation] != "okta" {
		t.Errorf("annotations %v", g.Annotations)
	}

	// The user's read-only groups attribute is computed, direct and indirect.
	parent := createGroup(t, uniq(t, "Parent"), id)
	u := call(t, http.MethodGet, "/scim/v2/Users/"+alice, nil).expect(t, http.StatusOK)
	groups, _ := u.body["groups"].([]any)
	if len(groups) != 2 {
		t.Fatalf("groups = %v", u.body["groups"])
	}
	direct, indirect := groups[0].(map[string]any), groups[1].(map[string]any)
	if direct["value"] != id || direct["type"] != "direct" || direct["display"] != name || indirect["value"] != parent || indirect["type"] != "indirect" {
		t.Errorf("groups = %v", groups)
	}

	// Uniqueness of displayName, case-insensitively.
	call(t, http.MethodPost, "/scim/v2/Groups", map[string]any{"displayName": name}).expectError(t, http.StatusConflict, "uniqueness")

	// PUT replaces members too.
	put := call(t, http.MethodPut, "/scim/v2/Groups/"+id, map[string]any{"id": id, "displayName": name + "-put", "members": members(bob)}).expect(t, http.StatusOK)
	if m := memberIDs(put.body); !m[bob] || m[alice] || put.str("displayName") != name+"-put" {
		t.Errorf("PUT answer %s", put.raw)
	}
	if m := groupMemberIDs(t, id); len(m) != 1 || !m[bob] {
		t.Errorf("stored members after PUT %v", m)
	}

	// Unknown members are refused and nothing is stored.
	call(t, http.MethodPost, "/scim/v2/Groups", map[string]any{"displayName": uniq(t, "Ghosts"), "members": members(alice, "no-such-id")}).
		expectError(t, http.StatusBadRequest, "invalidValue")
	list := call(t, http.MethodGet, "/scim/v2/Groups?filter="+url.QueryEscape(`displayName sw "Ghosts"`), nil).expect(t, http.StatusOK)
	if list.body["totalResults"] != float64(0) {
		t.Errorf("group with an unknown member was created: %s", list.raw)
	}

	// Deleting a user removes it from every group.
	call(t, http.MethodDelete, "/scim/v2/Users/"+bob, nil).expect(t, http.StatusNoContent)
	after := call(t, http.MethodGet, "/scim/v2/Groups/"+id, nil).expect(t, http.StatusOK)
	if len(memberIDs(after.body)) != 0 {
		t.Errorf("deleted user still listed: %s", after.raw)
	}

	call(t, http.MethodDelete, "/scim/v2/Groups/"+id, nil).expect(t, http.StatusNoContent)
	call(t, http.MethodGet, "/scim/v2/Groups/"+id, nil).expectError(t, http.StatusNotFound, "")
	// The finalizer keeps the object until the group controller releases it; SCIM treats it as gone.
	var stillThere v1alpha1.ScimGroup
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: v1alpha1.ObjectNameFor(name)}, &stillThere); err == nil && stillThere.DeletionTimestamp == nil {
		t.Error("group not being deleted")
	}
}

func TestGroupPatchMembersAtScale(t *testing.T) {
	ids := bulkUsers(t, uniq(t, "m"), 300)
	gid := createGroup(t, uniq(t, "Big"))
	before := memberListings(srv)

	// 300 members in one PATCH.
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "Add", "path": "members", "value": members(ids...)})).
		expect(t, http.StatusNoContent)
	if got := len(groupMemberIDs(t, gid)); got != 300 {
		t.Fatalf("%d members stored, want 300", got)
	}
	// Remove 150 with Entra's shape (path "members" plus a value array): only those go.
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "Remove", "path": "members", "value": members(ids[:150]...)})).
		expect(t, http.StatusNoContent)
	stored := groupMemberIDs(t, gid)
	if len(stored) != 150 || stored[ids[0]] || !stored[ids[299]] {
		t.Fatalf("%d members after removing 150", len(stored))
	}
	if memberListings(srv) != before {
		t.Error("member add/remove listed the whole member list")
	}

	// excludedAttributes=members answers without touching the member index.
	r := call(t, http.MethodGet, "/scim/v2/Groups/"+gid+"?excludedAttributes=members", nil).expect(t, http.StatusOK)
	lr := call(t, http.MethodGet, "/scim/v2/Groups?excludedAttributes=members&filter="+url.QueryEscape(fmt.Sprintf("id eq %q", gid)), nil).expect(t, http.StatusOK)
	if _, ok := r.body["members"]; ok || memberListings(srv) != before {
		t.Errorf("excludedAttributes=members listed members: %s", r.raw)
	}
	if lr.body["totalResults"] != float64(1) {
		t.Errorf("list: %s", lr.raw)
	}
	full := call(t, http.MethodGet, "/scim/v2/Groups/"+gid, nil).expect(t, http.StatusOK)
	if len(memberIDs(full.body)) != 150 {
		t.Errorf("GET lists %d members", len(memberIDs(full.body)))
	}

	// Unknown member ids: 400 naming them, nothing applied.
	bad := call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "add", "path": "members", "value": members(ids[0], "ghost-1")}))
	bad.expectError(t, http.StatusBadRequest, "invalidValue")
	if groupMemberIDs(t, gid)[ids[0]] {
		t.Error("a valid member of a refused request was applied")
	}

	// Replace sets exactly; remove without value removes all.
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "replace", "path": "members", "value": members(ids[0], ids[1])})).
		expect(t, http.StatusNoContent)
	if m := groupMemberIDs(t, gid); len(m) != 2 || !m[ids[0]] || !m[ids[1]] {
		t.Errorf("after replace: %d members", len(m))
	}
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "remove", "path": fmt.Sprintf("members[value eq %q]", ids[0])})).
		expect(t, http.StatusNoContent)
	if m := groupMemberIDs(t, gid); len(m) != 1 || !m[ids[1]] {
		t.Errorf("after value-filter remove: %v", m)
	}
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "remove", "path": "members"})).
		expect(t, http.StatusNoContent)
	if m := groupMemberIDs(t, gid); len(m) != 0 {
		t.Errorf("after remove all: %v", m)
	}
}

func TestConcurrentMemberPatchesLoseNothing(t *testing.T) {
	ids := bulkUsers(t, uniq(t, "c"), 40)
	groupIDs := []string{createGroup(t, uniq(t, "G1")), createGroup(t, uniq(t, "G2"))}
	var wg sync.WaitGroup
	// Eight requests add disjoint member slices to both groups at once, so each user's memberOf
	// sees concurrent writes for two groups.
	for i := range 8 {
		for _, gid := range groupIDs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slice := ids[i*5 : i*5+5]
				r := call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "add", "path": "members", "value": members(slice...)}))
				if r.status != http.StatusNoContent {
					t.Errorf("PATCH: %d %s", r.status, r.raw)
				}
			}()
		}
	}
	wg.Wait()
	for _, gid := range groupIDs {
		if got := len(groupMemberIDs(t, gid)); got != 40 {
			t.Errorf("group has %d members, want 40", got)
		}
	}
}

func TestGroupPatchAttributesAndETag(t *testing.T) {
	u := createUser(t, uniq(t, "x"), nil)
	name := uniq(t, "Ops")
	gid := createGroup(t, name)
	first := call(t, http.MethodGet, "/scim/v2/Groups/"+gid, nil).expect(t, http.StatusOK)

	// Okta renames with a replace that echoes the id.
	r := call(t, http.MethodPatch, "/scim/v2/Groups/"+gid+"?excludedAttributes=members", patchBody(map[string]any{
		"op": "replace", "value": map[string]any{"id": gid, "displayName": name + "-renamed"},
	})).expect(t, http.StatusOK)
	if r.str("displayName") != name+"-renamed" {
		t.Errorf("rename answer %s", r.raw)
	}
	// A member change alone still changes the group's ETag.
	etag := call(t, http.MethodGet, "/scim/v2/Groups/"+gid, nil).expect(t, http.StatusOK).header.Get("ETag")
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "add", "path": "members", "value": members(u)})).expect(t, http.StatusNoContent)
	call(t, http.MethodGet, "/scim/v2/Groups/"+gid, nil, "If-None-Match: "+etag).expect(t, http.StatusOK)
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "add", "path": "members", "value": members(u)}), "If-Match: "+first.header.Get("ETag")).
		expectError(t, http.StatusPreconditionFailed, "")
	// A group cannot contain itself; a read-only attribute cannot change.
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "add", "path": "members", "value": members(gid)})).
		expectError(t, http.StatusBadRequest, "invalidValue")
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "replace", "path": "id", "value": "other"})).
		expectError(t, http.StatusBadRequest, "mutability")
	call(t, http.MethodPatch, "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "remove", "path": "displayName"})).
		expectError(t, http.StatusBadRequest, "invalidValue")
}
