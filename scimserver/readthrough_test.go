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
	"maps"
	"net/http"
	"net/url"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// startReplica starts another SCIM server on a manager and cache of its own, as a second
// replica is, and returns its base URL. byObject restricts what its cache sees.
func startReplica(t *testing.T, byObject map[client.Object]cache.ByObject) string {
	t.Helper()
	replica := startOnManager(t, ctrl.Options{Cache: cache.Options{ByObject: byObject}},
		Options{BindAddress: "127.0.0.1:0", TokenFile: tokenFile, FailedAuthRate: 1000, FailedAuthBurst: 1000})
	return "http://" + replica.Addr()
}

// startOnManager starts a SCIM server with opts on a manager of its own made with mgrOpts (its
// scheme, metrics and probe addresses, and the cache of its token Secret, set here), and returns
// it once it serves.
func startOnManager(t *testing.T, mgrOpts ctrl.Options, opts Options) *Server {
	t.Helper()
	return startOnManagerAs(t, testMgr.GetConfig(), mgrOpts, opts)
}

// startOnManagerAs is startOnManager with a manager that talks to the API server with cfg.
func startOnManagerAs(t *testing.T, cfg *rest.Config, mgrOpts ctrl.Options, opts Options) *Server {
	t.Helper()
	mgrOpts.Scheme = testMgr.GetScheme()
	if byObject := CacheByObject(opts); byObject != nil {
		if mgrOpts.Cache.ByObject == nil {
			mgrOpts.Cache.ByObject = map[client.Object]cache.ByObject{}
		}
		maps.Copy(mgrOpts.Cache.ByObject, byObject)
	}
	mgrOpts.Metrics = metricsserver.Options{BindAddress: "0"}
	mgrOpts.HealthProbeBindAddress = "0"
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	if err := v1alpha1.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	replica, err := New(mgr, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Add(replica); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("replica manager: %v", err)
		}
	}()
	eventually(t, 60*time.Second, func() error {
		if replica.Addr() == "" {
			return fmt.Errorf("replica not serving yet")
		}
		return nil
	})
	return replica
}

// TestReadThroughAcrossReplicas is Okta's and Entra's group push against two replicas: a user
// POSTed to one is at once found on the other by id and by userName, and can be added to a
// group there; every request of the sequence succeeds, none meets a cache that lags.
func TestReadThroughAcrossReplicas(t *testing.T) {
	other := startReplica(t, nil)
	gid := createGroup(t, uniq(t, "push-group"))
	const n = 20
	ids := make([]string, n)
	for i := range ids {
		userName := fmt.Sprintf("%s-%02d", uniq(t, "push"), i)
		ids[i] = createUser(t, userName, nil)
		callURL(t, other, testToken, http.MethodGet, "/scim/v2/Users/"+ids[i], nil).expect(t, http.StatusOK)
		r := callURL(t, other, testToken, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", userName)), nil).
			expect(t, http.StatusOK)
		if r.body["totalResults"] != float64(1) {
			t.Fatalf("userName lookup on the other replica: %s", r.raw)
		}
		callURL(t, other, testToken, http.MethodPatch, "/scim/v2/Groups/"+gid,
			patchBody(map[string]any{"op": "add", "path": "members", "value": members(ids[i])})).expect(t, http.StatusNoContent)
	}
	got := memberIDs(call(t, http.MethodGet, "/scim/v2/Groups/"+gid, nil).expect(t, http.StatusOK).body)
	for _, id := range ids {
		if !got[id] {
			t.Errorf("user %s is not a member of the group", id)
		}
	}
}

// TestReadThroughCacheMiss runs a replica whose cache never sees a ScimUser, so that every user
// lookup misses it: lookups by id, userName and externalId and a member reference are answered
// from the API server, an unknown id stays a 404, and a general filter is not read through.
func TestReadThroughCacheMiss(t *testing.T) {
	blind := startReplica(t, map[client.Object]cache.ByObject{
		&v1alpha1.ScimUser{}: {Label: labels.SelectorFromSet(labels.Set{"kubescim.io/test": "never"})},
	})
	userName, externalID := uniq(t, "unseen"), uniq(t, "ext")
	id := createUser(t, userName, map[string]any{"externalId": externalID, "title": "unseen"})
	gid := createGroup(t, uniq(t, "unseen-group"))

	get := func(path string) response {
		return callURL(t, blind, testToken, http.MethodGet, path, nil)
	}
	if r := get("/scim/v2/Users/"+id).expect(t, http.StatusOK); r.str("userName") != userName {
		t.Errorf("GET by id answered userName %q, want %q", r.str("userName"), userName)
	}
	get("/scim/v2/Users/00000000-0000-4000-8000-00000000beef").expectError(t, http.StatusNotFound, "")
	for _, f := range []string{fmt.Sprintf("userName eq %q", userName), fmt.Sprintf("externalId eq %q", externalID)} {
		if r := get("/scim/v2/Users?filter="+url.QueryEscape(f)).expect(t, http.StatusOK); r.body["totalResults"] != float64(1) {
			t.Errorf("filter %s: %s", f, r.raw)
		}
	}
	if r := get("/scim/v2/Users?filter="+url.QueryEscape(`title eq "unseen"`)).expect(t, http.StatusOK); r.body["totalResults"] != float64(0) {
		t.Errorf("a general filter was read through: %s", r.raw)
	}
	callURL(t, blind, testToken, http.MethodPatch, "/scim/v2/Groups/"+gid,
		patchBody(map[string]any{"op": "add", "path": "members", "value": members(id)})).expect(t, http.StatusNoContent)
	if got := memberIDs(call(t, http.MethodGet, "/scim/v2/Groups/"+gid, nil).body); !got[id] {
		t.Errorf("members %v, want %s", got, id)
	}
}
