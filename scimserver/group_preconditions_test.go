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
	"net/http"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/scimserver/store"
)

// laggingCache is a replica's cache that has not seen the latest write of one group yet: List
// serves that group at its old version. Get (which writes use to wait for the cache) and
// everything else pass through; writes and live reads go to the API server.
type laggingCache struct {
	client.Reader
	old *v1alpha1.ScimGroup
}

func (c laggingCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := c.Reader.List(ctx, list, opts...); err != nil {
		return err
	}
	if groups, ok := list.(*v1alpha1.ScimGroupList); ok {
		for i := range groups.Items {
			if groups.Items[i].UID == c.old.UID {
				groups.Items[i] = *c.old.DeepCopy()
			}
		}
	}
	return nil
}

// TestMemberPatchPreconditionOnTheLiveGroup: another replica wrote the group; this replica's
// cache still has the old version. A member-only PATCH with If-Match decides on the live
// version: the new ETag passes (no spurious 412), the old one fails even though the cache
// still shows it.
func TestMemberPatchPreconditionOnTheLiveGroup(t *testing.T) {
	ctx := context.Background()
	alice, bob := createUser(t, uniq(t, "alice"), nil), createUser(t, uniq(t, "bob"), nil)
	gid := createGroup(t, uniq(t, "lagging"))
	old := groupByScimID(t, gid)
	written := old.DeepCopy()
	written.Spec.ExternalID = "written-by-another-replica"
	if err := k8sClient.Update(ctx, written); err != nil {
		t.Fatal(err)
	}
	s, base := newTestServer(t, Options{})
	s.repo = testRepo(store.Clients{Cache: laggingCache{Reader: testMgr.GetCache(), old: old}})
	addMember := func(id string) map[string]any {
		return patchBody(map[string]any{"op": "add", "path": "members", "value": members(id)})
	}
	path := "/scim/v2/Groups/" + gid

	r := callURL(t, base, testToken, http.MethodPatch, path, addMember(alice), "If-Match: "+etagFor(written.ResourceVersion))
	r.expect(t, http.StatusNoContent)
	if m := groupMemberIDs(t, gid); !m[alice] {
		t.Errorf("alice not added: %v", m)
	}
	if r.header.Get("ETag") == etagFor(written.ResourceVersion) {
		t.Error("the member change did not change the group's version")
	}
	callURL(t, base, testToken, http.MethodPatch, path, addMember(bob), "If-Match: "+etagFor(old.ResourceVersion)).
		expectError(t, http.StatusPreconditionFailed, "")
	if m := groupMemberIDs(t, gid); m[bob] {
		t.Errorf("bob added despite the failed precondition: %v", m)
	}
}
