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
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

const fleetBinding = "fleet-ops-read"

// A binding written on the hub with a memberSelector grants in the members whose ScimMember
// labels it selects, and only there; relabelling a member on the hub moves the grant, and
// deleting the hub binding revokes it everywhere.
func TestFleetBindingGrantsInSelectedMembers(t *testing.T) {
	hub := startHub(t)
	opts := Options{Heartbeat: 300 * time.Millisecond, GracePeriod: time.Hour}
	prod, dev := startMember(t, hub, "prod", opts), startMember(t, hub, "dev", opts)
	hub.labelMember(t, "prod", `{"env":"prod"}`)
	hub.group(t, "ops")
	hub.user(t, "carol", "ops")
	if err := hub.k8s.Create(context.Background(), &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: fleetBinding},
		Spec: scimv1.ScimGroupBindingSpec{Group: "ops", Namespaces: []string{"team-a"},
			RoleRef:        scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole},
			MemberSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}}); err != nil {
		t.Fatal(err)
	}

	eventually(t, "carol granted in prod", prod.expectAllowed("carol", true))
	var local scimv1.ScimGroupBinding
	if err := prod.k8s.Get(context.Background(), client.ObjectKey{Name: fleetBinding}, &local); err != nil {
		t.Fatal(err)
	}
	if local.Labels[scimv1.MirroredLabel] != "prod" || local.Spec.MemberSelector != nil {
		t.Errorf("prod's copy: labels %v, memberSelector %v; want mirrored=prod and no selector", local.Labels, local.Spec.MemberSelector)
	}
	// dev mirrored carol (identities go everywhere) but not the binding.
	eventually(t, "carol mirrored in dev", func() error {
		return dev.k8s.Get(context.Background(), client.ObjectKey{Name: scimv1.ObjectNameFor("carol")}, &scimv1.ScimUser{})
	})
	if err := dev.expectAllowed("carol", false)(); err != nil {
		t.Error(err)
	}
	if err := dev.k8s.Get(context.Background(), client.ObjectKey{Name: fleetBinding}, &scimv1.ScimGroupBinding{}); !apierrors.IsNotFound(err) {
		t.Errorf("dev, not selected, has the fleet binding: %v", err)
	}

	hub.labelMember(t, "dev", `{"env":"prod"}`)
	eventually(t, "carol granted in dev once relabelled", dev.expectAllowed("carol", true))
	hub.labelMember(t, "prod", `{"env":null}`)
	eventually(t, "carol revoked in prod once unlabelled", prod.expectAllowed("carol", false))
	eventually(t, "prod's copy of the binding deleted", func() error {
		err := prod.k8s.Get(context.Background(), client.ObjectKey{Name: fleetBinding}, &scimv1.ScimGroupBinding{})
		if err == nil {
			return fmt.Errorf("prod still holds %s", fleetBinding)
		}
		return client.IgnoreNotFound(err)
	})

	if err := hub.k8s.Delete(context.Background(), &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: fleetBinding}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "carol revoked in dev once the hub binding is deleted", dev.expectAllowed("carol", false))
}

// A member's own binding keeps its name: a fleet binding of the same name is not applied there.
func TestFleetBindingLeavesALocalBindingAlone(t *testing.T) {
	hub := startHub(t)
	m := startMember(t, hub, "solo", Options{Heartbeat: 300 * time.Millisecond, GracePeriod: time.Hour})
	hub.group(t, "ops")
	hub.group(t, "auditors")
	hub.user(t, "dave", "ops")
	hub.user(t, "erin", "auditors")
	own := &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: fleetBinding},
		Spec: scimv1.ScimGroupBindingSpec{Group: "auditors", Namespaces: []string{"team-a"}, RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole}}}
	if err := m.k8s.Create(context.Background(), own); err != nil {
		t.Fatal(err)
	}
	if err := hub.k8s.Create(context.Background(), &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: fleetBinding},
		Spec: scimv1.ScimGroupBindingSpec{Group: "ops", Namespaces: []string{"team-a"},
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole}, MemberSelector: &metav1.LabelSelector{}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "erin granted by the member's own binding", m.expectAllowed("erin", true))
	// The hub binding reaches the member (its identities are mirrored), and is still not applied.
	eventually(t, "dave mirrored", func() error {
		return m.k8s.Get(context.Background(), client.ObjectKey{Name: scimv1.ObjectNameFor("dave")}, &scimv1.ScimUser{})
	})
	consistently(t, "dave not granted by the hub binding of the same name", 2*time.Second, m.expectAllowed("dave", false))
	var got scimv1.ScimGroupBinding
	if err := m.k8s.Get(context.Background(), client.ObjectKey{Name: fleetBinding}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Group != "auditors" || got.Labels[scimv1.MirroredLabel] != "" {
		t.Errorf("the member's own binding was taken over: group %q, labels %v", got.Spec.Group, got.Labels)
	}
}

// labelMember merge-patches the labels of a member's ScimMember on the hub (a null value
// removes a label), as a hub admin would with kubectl label.
func (h *testHub) labelMember(t testing.TB, name, labels string) {
	t.Helper()
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":`+labels+`}}`))
	if err := h.k8s.Patch(context.Background(), &scimv1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: name}}, patch); err != nil {
		t.Fatal(err)
	}
}
