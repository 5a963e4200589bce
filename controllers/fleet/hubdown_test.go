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
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// The hub's API server stops for good (not a cut link): each member does what its policy says,
// and says so. Revoke fences once the grace period has passed and every grant goes; Keep keeps
// access and reports the hub unreachable. The fenced gauge is one per process, and both members
// run in this one, so the test reads the members' own ScimMembers and Events instead.
func TestHubStopped(t *testing.T) {
	hub := startHub(t)
	const grace, heartbeat = 2 * time.Second, 300 * time.Millisecond
	revoker := startMember(t, hub, "revoker", Options{Heartbeat: heartbeat, GracePeriod: grace, Unreachable: scimv1.UnreachableRevoke})
	keeper := startMember(t, hub, "keeper", Options{Heartbeat: heartbeat, GracePeriod: grace, Unreachable: scimv1.UnreachableKeep})
	hub.group(t, "devs")
	hub.user(t, "alice", "devs")
	members := []*testMember{revoker, keeper}
	for _, m := range members {
		m.bind(t, "devs")
	}
	for _, m := range members {
		eventually(t, "alice granted in "+m.name, m.expectAllowed("alice", true))
		eventually(t, m.name+" connected", m.expectLocal(scimv1.HubConnectedCondition, metav1.ConditionTrue, "Heartbeat"))
	}

	// The hub answers until somewhere inside Stop (kube-apiserver shuts down gracefully), so
	// the clock starts before it: the last contact is no earlier than one heartbeat before.
	stopped := time.Now()
	hub.stopControlPlane(t)
	t.Logf("stopping the hub's control plane took %s", time.Since(stopped).Round(time.Millisecond))

	// Revoke: unreachable, then fenced after the grace period, and every grant gone.
	eventually(t, "revoker sees the hub unreachable", revoker.expectLocal(scimv1.HubConnectedCondition, metav1.ConditionFalse, "Unreachable"))
	eventually(t, "revoker fenced", revoker.expectLocal(scimv1.FencedCondition, metav1.ConditionTrue, "HubUnreachable"))
	if took := time.Since(stopped); took < grace-time.Second {
		t.Errorf("fenced %s after the hub stopped, before the grace period of %s", took.Round(time.Millisecond), grace)
	}
	t.Logf("hub stopped -> revoker fenced: %s (grace period %s)", time.Since(stopped).Round(time.Millisecond), grace)
	eventually(t, "alice denied in revoker", revoker.expectAllowed("alice", false))
	eventually(t, "revoker's copies removed", func() error {
		names, err := revoker.copies()
		if err == nil && len(names) > 0 {
			err = fmt.Errorf("copies left: %v", names)
		}
		return err
	})
	for _, reason := range []string{"HubUnreachable", "Fenced"} {
		eventually(t, "revoker records "+reason, expectEvent(revoker.k8s, revoker.name, reason, stopped))
	}

	// Keep: unreachable, never fenced, and alice keeps access well past the grace period.
	eventually(t, "keeper sees the hub unreachable", keeper.expectLocal(scimv1.HubConnectedCondition, metav1.ConditionFalse, "Unreachable"))
	eventually(t, "keeper records it", expectEvent(keeper.k8s, keeper.name, "HubUnreachable", stopped))
	consistently(t, "keeper keeps access and is not fenced", time.Until(stopped.Add(grace+2*time.Second)), func() error {
		if err := keeper.expectAllowed("alice", true)(); err != nil {
			return err
		}
		return keeper.expectLocal(scimv1.FencedCondition, metav1.ConditionFalse, "KeepPolicy")()
	})
	if fenced, err := hasEvent(keeper.k8s, keeper.name, "Fenced", time.Time{}); err != nil || fenced {
		t.Errorf("keeper recorded a Fenced Event (%v)", err)
	}
	if names, err := keeper.copies(); err != nil || len(names) != 1 {
		t.Errorf("keeper's copies: %v, %v; want alice's", names, err)
	}
}
