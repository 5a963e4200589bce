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

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// The shared cache holds objects without managedFields, and an update written from a cached
// object keeps the API server's.
func TestCacheStripsManagedFields(t *testing.T) {
	fs := flag.NewFlagSet("kubescim", flag.ContinueOnError)
	c := bindFlags(fs, false)
	if err := fs.Parse([]string{"--metrics-bind-address=0", "--health-probe-bind-address=0", "--scim-token-file=" + tokenFile}); err != nil {
		t.Fatal(err)
	}
	if err := c.complete(); err != nil {
		t.Fatal(err)
	}
	mgr, err := newManager(c, testCfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})

	u := &scimv1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: "strip-managed-fields"},
		Spec: scimv1alpha1.ScimUserSpec{UserName: "strip@example.com", Active: ptr.To(true),
			Emails: []scimv1alpha1.MultiValuedAttribute{{Value: "strip@example.com", Primary: true}}}}
	if err := k8s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), u) })
	if len(u.ManagedFields) == 0 {
		t.Fatal("the API server returned no managedFields: nothing to strip")
	}

	var cached scimv1alpha1.ScimUser
	eventually(t, "the user reaches the cache", func() error {
		return mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(u), &cached)
	})
	if len(cached.ManagedFields) != 0 {
		t.Fatalf("cached user has managedFields: %v", cached.ManagedFields)
	}
	full, _ := json.Marshal(u)
	stripped, _ := json.Marshal(&cached)
	t.Logf("ScimUser JSON: %d bytes from the API server, %d cached", len(full), len(stripped))

	cached.Spec.DisplayName = "Strip"
	if err := mgr.GetClient().Update(ctx, &cached); err != nil {
		t.Fatal(err)
	}
	var live scimv1alpha1.ScimUser
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(u), &live); err != nil {
		t.Fatal(err)
	}
	if len(live.ManagedFields) == 0 {
		t.Fatal("an update from a cached object cleared the server's managedFields")
	}
}

// Outside member mode the controllers component keeps the hub's view of its members: a member
// that joined but never reported is marked so.
func TestControllersMarkSilentMembers(t *testing.T) {
	ctx := t.Context()
	sm := &scimv1alpha1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: "run-never-reported"}}
	if err := k8s.Create(ctx, sm); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), sm) })
	ctl := startInstance(t, testCfg, "--components=controllers")
	ctl.waitReady(t)
	eventually(t, "the member is marked NeverConnected", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(sm), sm); err != nil {
			return err
		}
		c := meta.FindStatusCondition(sm.Status.Conditions, scimv1alpha1.HubConnectedCondition)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != scimv1alpha1.NeverConnectedReason {
			return fmt.Errorf("HubConnected: %+v", c)
		}
		return nil
	})
}
