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
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/kubescim/kubescim/scimserver/store"
)

// timeoutServer serves SCIM through a writer whose creates and updates time out while the
// flag landed says whether they reached the API server first (the answer was lost) or not.
func timeoutServer(t *testing.T, landed *atomic.Bool) string {
	t.Helper()
	s, err := New(testMgr, Options{BindAddress: "127.0.0.1:0", TokenFile: tokenFile, FailedAuthRate: 1000, FailedAuthBurst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	base, err := client.NewWithWatch(testMgr.GetConfig(), client.Options{Scheme: testMgr.GetScheme()})
	if err != nil {
		t.Fatal(err)
	}
	s.repo = testRepo(store.Clients{Writer: client.WithFieldOwner(interceptor.NewClient(base, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if landed.Load() {
				if err := c.Create(ctx, obj, opts...); err != nil {
					return err
				}
			}
			return context.DeadlineExceeded
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if landed.Load() {
				if err := c.Update(ctx, obj.DeepCopyObject().(client.Object), opts...); err != nil {
					return err
				}
			}
			return context.DeadlineExceeded
		},
	}), FieldManager)})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// TestTimedOutWrite: a create or update cut by a timeout is read back; it answers its real
// result when it landed, and 503 with Retry-After only when it did not.
func TestTimedOutWrite(t *testing.T) {
	var landed atomic.Bool
	base := timeoutServer(t, &landed)
	send := func(method, path string, body any) response {
		return callURL(t, base, testToken, method, path, body)
	}

	landed.Store(false)
	userName := uniq(t, "lost")
	send(http.MethodPost, "/scim/v2/Users", map[string]any{"userName": userName}).expectError(t, http.StatusServiceUnavailable, "")
	if r := call(t, http.MethodGet, "/scim/v2/Users?filter=userName%20eq%20%22"+userName+"%22", nil); r.body["totalResults"] != float64(0) {
		t.Fatalf("a create that did not land left a user: %s", r.raw)
	}

	landed.Store(true)
	r := send(http.MethodPost, "/scim/v2/Users", map[string]any{"userName": userName}).expect(t, http.StatusCreated)
	id := r.str("id")
	if id == "" || userByScimID(t, id).Spec.UserName != userName {
		t.Fatalf("201 for a user the API server does not hold: %s", r.raw)
	}
	r = send(http.MethodPut, "/scim/v2/Users/"+id, map[string]any{"userName": userName, "title": "landed"}).expect(t, http.StatusOK)
	if r.str("title") != "landed" || userByScimID(t, id).Spec.Title != "landed" {
		t.Errorf("PUT that landed: answer %s, stored title %q", r.raw, userByScimID(t, id).Spec.Title)
	}

	landed.Store(false)
	r = send(http.MethodPut, "/scim/v2/Users/"+id, map[string]any{"userName": userName, "title": "lost"})
	r.expectError(t, http.StatusServiceUnavailable, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if got := userByScimID(t, id).Spec.Title; got != "landed" {
		t.Errorf("title %q after a PUT that did not land, want landed", got)
	}
}
