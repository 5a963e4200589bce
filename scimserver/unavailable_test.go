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
	"net/http/httptest"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/scimserver/store"
)

// TestAPIServerUnavailable points the server's API writes and live reads at an address where no
// API server listens: writes answer 503 with Retry-After (IdPs retry), never 500 or a hang,
// while reads keep being served from the cache.
func TestAPIServerUnavailable(t *testing.T) {
	id := createUser(t, uniq(t, "offline"), nil)
	dead := rest.CopyConfig(testMgr.GetConfig())
	dead.Host = "https://127.0.0.1:1"
	c, err := client.New(dead, client.Options{Scheme: testMgr.GetScheme(), Mapper: testMgr.GetRESTMapper()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(testMgr, Options{TokenFile: tokenFile})
	if err != nil {
		t.Fatal(err)
	}
	s.repo = testRepo(store.Clients{Live: c, Writer: client.WithFieldOwner(c, FieldManager)})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)

	for _, req := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/scim/v2/Users", map[string]any{"userName": uniq(t, "new")}},
		{http.MethodPatch, "/scim/v2/Users/" + id, patchBody(map[string]any{"op": "replace", "path": "title", "value": "x"})},
		{http.MethodDelete, "/scim/v2/Users/" + id, nil},
	} {
		r := callURL(t, hs.URL, testToken, req.method, req.path, req.body)
		r.expectError(t, http.StatusServiceUnavailable, "")
		if r.header.Get("Retry-After") == "" {
			t.Errorf("%s %s: 503 without Retry-After", req.method, req.path)
		}
	}
	callURL(t, hs.URL, testToken, http.MethodGet, "/scim/v2/Users/"+id, nil).expect(t, http.StatusOK)
}
