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
package fleet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// One push to the hub reaches both members: a member mirrors every identity, its own binding
// grants from the copy, a deactivation on the hub revokes in both, a deletion removes the copy,
// and each member reports its health to its ScimMember on the hub.
func TestOneHubTwoMembers(t *testing.T) {
	hub := startHub(t)
	opts := Options{Heartbeat: 500 * time.Millisecond, GracePeriod: time.Hour}
	members := []*testMember{startMember(t, hub, "east", opts), startMember(t, hub, "west", opts)}
	hub.group(t, "devs")
	hub.user(t, "alice", "devs")
	hub.user(t, "bob", "devs")
	for _, m := range members {
		m.bind(t, "devs")
	}
	for _, m := range members {
		eventually(t, "alice granted in "+m.name, m.expectAllowed("alice", true))
		eventually(t, "bob granted in "+m.name, m.expectAllowed("bob", true))
	}

	start := time.Now()
	hub.setActive(t, "alice", false)
	for _, m := range members {
		eventually(t, "alice revoked in "+m.name, m.expectAllowed("alice", false))
	}
	t.Logf("hub write -> revoked in both members: %s", time.Since(start).Round(time.Millisecond))
	for _, m := range members {
		if err := m.expectAllowed("bob", true)(); err != nil {
			t.Error(err)
		}
	}

	if err := hub.k8s.Delete(context.Background(), &scimv1.ScimUser{ObjectMeta: metaName(scimv1.ObjectNameFor("bob"))}); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		eventually(t, "bob's copy deleted in "+m.name, func() error {
			names, err := m.copies()
			if err == nil && slices.Contains(names, scimv1.ObjectNameFor("bob")) {
				err = fmt.Errorf("copies: %v", names)
			}
			return err
		})
		eventually(t, "bob revoked in "+m.name, m.expectAllowed("bob", false))
	}

	for _, m := range members {
		eventually(t, m.name+" reports to the hub", func() error {
			var sm scimv1.ScimMember
			if err := hub.k8s.Get(context.Background(), client.ObjectKey{Name: m.name}, &sm); err != nil {
				return err
			}
			st := sm.Status
			if !meta.IsStatusConditionTrue(st.Conditions, scimv1.HubConnectedCondition) || st.LastContact == nil ||
				st.Users != 1 || st.Groups != 1 || st.Bindings != 1 || st.UnreachablePolicy != scimv1.UnreachableRevoke {
				return fmt.Errorf("status %+v", st)
			}
			return nil
		})
	}
}

// A copy edited in the member is put back as the hub has it.
func TestEditedCopyIsRestored(t *testing.T) {
	hub := startHub(t)
	m := startMember(t, hub, "solo", Options{Heartbeat: time.Second, GracePeriod: time.Hour})
	hub.group(t, "ops")
	hub.user(t, "carol", "ops")
	m.bind(t, "ops")
	hub.setActive(t, "carol", false)
	eventually(t, "carol's copy is inactive", func() error {
		var u scimv1.ScimUser
		if err := m.k8s.Get(context.Background(), client.ObjectKey{Name: scimv1.ObjectNameFor("carol")}, &u); err != nil {
			return err
		}
		if u.Spec.IsActive() {
			return fmt.Errorf("still active")
		}
		return nil
	})
	eventually(t, "reactivating the copy by hand", func() error {
		var u scimv1.ScimUser
		if err := m.k8s.Get(context.Background(), client.ObjectKey{Name: scimv1.ObjectNameFor("carol")}, &u); err != nil {
			return err
		}
		u.Spec.Active = ptrTo(true)
		return m.k8s.Update(context.Background(), &u)
	})
	eventually(t, "the copy is inactive again", func() error {
		var u scimv1.ScimUser
		if err := m.k8s.Get(context.Background(), client.ObjectKey{Name: scimv1.ObjectNameFor("carol")}, &u); err != nil {
			return err
		}
		if u.Spec.IsActive() {
			return fmt.Errorf("still active")
		}
		return nil
	})
	eventually(t, "carol has no access", m.expectAllowed("carol", false))
}

// Revoke: once the hub has been unreachable for the grace period, the member removes every
// grant, visibly; on reconnect it converges on the hub's current state, with no stale grant.
func TestRevokePolicyFencesAnUnreachableHub(t *testing.T) {
	hub := startHub(t)
	m := startMember(t, hub, "fenced", Options{Heartbeat: 500 * time.Millisecond, GracePeriod: 2 * time.Second, Unreachable: scimv1.UnreachableRevoke})
	hub.group(t, "devs")
	hub.user(t, "alice", "devs")
	hub.user(t, "bob", "devs")
	hub.user(t, "carol", "devs")
	m.bind(t, "devs")
	for _, u := range []string{"alice", "bob", "carol"} {
		eventually(t, u+" granted", m.expectAllowed(u, true))
	}

	hub.proxy.Cut()
	eventually(t, "the member says the hub is unreachable", m.expectCondition(scimv1.HubConnectedCondition, false))
	eventually(t, "fenced after the grace period", m.expectCondition(scimv1.FencedCondition, true))
	for _, u := range []string{"alice", "bob", "carol"} {
		eventually(t, u+" revoked while fenced", m.expectAllowed(u, false))
	}
	// Meanwhile, on the hub: bob is deactivated, carol deleted, dave added.
	hub.setActive(t, "bob", false)
	if err := hub.k8s.Delete(context.Background(), &scimv1.ScimUser{ObjectMeta: metaName(scimv1.ObjectNameFor("carol"))}); err != nil {
		t.Fatal(err)
	}
	hub.user(t, "dave", "devs")

	if err := hub.proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "alice granted again", m.expectAllowed("alice", true))
	eventually(t, "dave granted", m.expectAllowed("dave", true))
	eventually(t, "unfenced", m.expectCondition(scimv1.FencedCondition, false))
	consistently(t, "bob and carol never come back", 2*time.Second, func() error {
		for _, u := range []string{"bob", "carol"} {
			if err := m.expectAllowed(u, false)(); err != nil {
				return err
			}
		}
		names, err := m.copies()
		if err == nil && slices.Contains(names, scimv1.ObjectNameFor("carol")) {
			err = fmt.Errorf("carol's copy is back: %v", names)
		}
		return err
	})
}

// Keep: the last known access stays while the hub is away; a revocation made meanwhile
// applies as soon as the hub answers.
func TestKeepPolicyKeepsAccessAndCatchesUp(t *testing.T) {
	hub := startHub(t)
	m := startMember(t, hub, "kept", Options{Heartbeat: 500 * time.Millisecond, GracePeriod: time.Second, Unreachable: scimv1.UnreachableKeep})
	hub.group(t, "devs")
	hub.user(t, "alice", "devs")
	m.bind(t, "devs")
	eventually(t, "alice granted", m.expectAllowed("alice", true))

	hub.proxy.Cut()
	eventually(t, "the member says the hub is unreachable", m.expectCondition(scimv1.HubConnectedCondition, false))
	consistently(t, "access kept past the grace period", 2*time.Second, m.expectAllowed("alice", true))
	hub.setActive(t, "alice", false)
	if err := m.expectCondition(scimv1.FencedCondition, false)(); err != nil {
		t.Error(err)
	}
	restored := time.Now()
	if err := hub.proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "alice revoked after the reconnect", m.expectAllowed("alice", false))
	t.Logf("reconnect -> revocation made while away applied: %s", time.Since(restored).Round(time.Millisecond))
}

// A member agent stopped and started again applies what changed meanwhile, without
// duplicating anything.
func TestMemberRestartCatchesUp(t *testing.T) {
	hub := startHub(t)
	opts := Options{Heartbeat: 500 * time.Millisecond, GracePeriod: time.Hour}
	m := startMember(t, hub, "restarted", opts)
	hub.group(t, "devs")
	hub.user(t, "alice", "devs")
	hub.user(t, "bob", "devs")
	m.bind(t, "devs")
	eventually(t, "alice granted", m.expectAllowed("alice", true))
	eventually(t, "bob granted", m.expectAllowed("bob", true))
	m.stop()
	hub.setActive(t, "alice", false)
	if err := hub.k8s.Delete(context.Background(), &scimv1.ScimUser{ObjectMeta: metaName(scimv1.ObjectNameFor("bob"))}); err != nil {
		t.Fatal(err)
	}
	m.start(t, hub, opts)
	eventually(t, "alice revoked after the restart", m.expectAllowed("alice", false))
	eventually(t, "bob revoked after the restart", m.expectAllowed("bob", false))
	names, err := m.copies()
	if err != nil || strings.Join(names, ",") != scimv1.ObjectNameFor("alice") {
		t.Errorf("copies after the restart: %v, %v; want alice's only", names, err)
	}
}
