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

package controllers

import (
	"context"
	"fmt"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

func TestUserRevokes(t *testing.T) {
	base := func() *scimv1.ScimUser {
		return &scimv1.ScimUser{Spec: scimv1.ScimUserSpec{UserName: "ada", Active: ptr.To(true), MemberOf: []string{"g1", "g2"},
			Emails: []scimv1.MultiValuedAttribute{{Value: "ada@example.com", Primary: true}}}}
	}
	cases := []struct {
		name   string
		change func(u *scimv1.ScimUser)
		want   bool
	}{
		{"no change", func(*scimv1.ScimUser) {}, false},
		{"joined a group", func(u *scimv1.ScimUser) { u.Spec.MemberOf = append(u.Spec.MemberOf, "g3") }, false},
		{"display name", func(u *scimv1.ScimUser) { u.Spec.DisplayName = "Ada" }, false},
		{"deactivated", func(u *scimv1.ScimUser) { u.Spec.Active = ptr.To(false) }, true},
		{"active unassigned", func(u *scimv1.ScimUser) { u.Spec.Active = nil }, true},
		{"left a group", func(u *scimv1.ScimUser) { u.Spec.MemberOf = []string{"g2"} }, true},
		{"renamed", func(u *scimv1.ScimUser) { u.Spec.UserName = "ada2" }, true},
		{"email changed", func(u *scimv1.ScimUser) { u.Spec.Emails[0].Value = "x@example.com" }, true},
		{"externalId changed", func(u *scimv1.ScimUser) { u.Spec.ExternalID = "e1" }, true},
		{"deletion started", func(u *scimv1.ScimUser) { u.DeletionTimestamp = ptr.To(metav1.Now()) }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := base()
			tc.change(n)
			if got := userRevokes(base(), n); got != tc.want {
				t.Fatalf("userRevokes = %t, want %t", got, tc.want)
			}
		})
	}
	reactivated := base()
	inactive := base()
	inactive.Spec.Active = ptr.To(false)
	if userRevokes(inactive, reactivated) {
		t.Fatal("a reactivation is a grant, not a revocation")
	}
}

func TestGroupRevokes(t *testing.T) {
	g := func(dn string, memberOf ...string) *scimv1.ScimGroup {
		return &scimv1.ScimGroup{Spec: scimv1.ScimGroupSpec{DisplayName: dn, MemberOf: memberOf}}
	}
	deleting := g("Eng")
	deleting.DeletionTimestamp = ptr.To(metav1.Now())
	cases := []struct {
		name string
		o, n *scimv1.ScimGroup
		want bool
	}{
		{"no change", g("Eng", "p"), g("Eng", "p"), false},
		{"case only (groupPatterns are case-sensitive)", g("Eng"), g("ENG"), true},
		{"joined a parent", g("Eng"), g("Eng", "p"), false},
		{"renamed", g("Eng"), g("Ops"), true},
		{"left a parent", g("Eng", "p"), g("Eng"), true},
		{"deletion started", g("Eng"), deleting, true},
	}
	for _, tc := range cases {
		if got := groupRevokes(tc.o, tc.n); got != tc.want {
			t.Errorf("%s: groupRevokes = %t, want %t", tc.name, got, tc.want)
		}
	}
}

func TestSubjectsAdded(t *testing.T) {
	rb := func(names ...string) *rbacv1.RoleBinding {
		o := &rbacv1.RoleBinding{}
		for _, n := range names {
			o.Subjects = append(o.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: n})
		}
		return o
	}
	if subjectsAdded(rb("a", "b"), rb("a")) {
		t.Error("a removed subject is not drift that grants")
	}
	if !subjectsAdded(rb("a"), rb("a", "intruder")) {
		t.Error("an added subject is drift that grants")
	}
}

// kubescim's own grant comes back as an update that adds a subject; only drift, what kubescim
// did not write, goes ahead of the other requests.
func TestOwnGrantIsNotDrift(t *testing.T) {
	rb := func(names ...string) *rbacv1.RoleBinding {
		o := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "kubescim-b"}}
		for _, n := range names {
			o.Subjects = append(o.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: n})
		}
		return o
	}
	w := newOwnWrites()
	w.wrote(rb("a", "b"))
	if w.driftGrants(rb("a"), rb("a", "b")) {
		t.Error("the echo of kubescim's own write is not drift")
	}
	if !w.driftGrants(rb("a"), rb("a", "b", "intruder")) {
		t.Error("a subject added on top of kubescim's write is drift")
	}
	w.wrote(rb("a", "b", "c"))
	if w.driftGrants(rb("a"), rb("a", "b")) {
		t.Error("the late echo of an earlier write is not drift")
	}
	w.forget(rb())
	if !w.driftGrants(rb("a"), rb("a", "b")) {
		t.Error("after a delete, kubescim no longer vouches for the subjects")
	}
	var none *ownWrites
	if !none.driftGrants(rb("a"), rb("a", "b")) {
		t.Error("without a record every added subject is drift")
	}
}

// A deactivation queued behind a sync's grants is handed out first by the controllers' real
// queue type.
func TestRevocationsGoFirst(t *testing.T) {
	q := priorityqueue.New[reconcile.Request]("test")
	defer q.ShutDown()
	req := func(name string) reconcile.Request {
		return reconcile.Request{NamespacedName: types.NamespacedName{Name: name}}
	}
	h := enqueueRevocationsFirst(func(_ context.Context, o client.Object) []string {
		return []string{"binding-of-" + o.GetName()}
	}, specChanged, userRevokes)
	ctx := context.Background()
	user := func(name string, active bool, generation int64) *scimv1.ScimUser {
		return &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: generation, ResourceVersion: fmt.Sprint(generation)},
			Spec: scimv1.ScimUserSpec{UserName: name, Active: ptr.To(active)}}
	}
	for i := range 50 {
		h.Create(ctx, event.CreateEvent{Object: user(fmt.Sprintf("new-%02d", i), true, 1)}, q)
	}
	// The revoked user's binding was already queued as a grant; it moves up.
	h.Create(ctx, event.CreateEvent{Object: user("leaver", true, 1)}, q)
	h.Update(ctx, event.UpdateEvent{ObjectOld: user("leaver", true, 1), ObjectNew: user("leaver", false, 2)}, q)
	h.Delete(ctx, event.DeleteEvent{Object: user("deleted", true, 1)}, q)

	first, _ := q.Get()
	second, _ := q.Get()
	got := map[reconcile.Request]bool{first: true, second: true}
	if !got[req("binding-of-leaver")] || !got[req("binding-of-deleted")] {
		t.Fatalf("first two requests = %v, %v; want the deactivated and the deleted user's bindings", first, second)
	}
	if q.Len() != 50 {
		t.Fatalf("queue holds %d requests after the revocations, want the 50 grants", q.Len())
	}
}

func TestRevokingFirst(t *testing.T) {
	rb := func(names ...string) client.Object {
		o := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "kubescim-b",
			OwnerReferences: []metav1.OwnerReference{{UID: "b", Controller: ptr.To(true)}}}}
		for _, n := range names {
			o.Subjects = append(o.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, Name: n})
		}
		return o
	}
	existing := func(o client.Object) map[string]client.Object { return map[string]client.Object{o.GetName(): o} }
	plans := []unitPlan{
		{unit: "grants", desired: []client.Object{rb("ada", "bob")}, existing: existing(rb("ada"))},
		{unit: "new", desired: []client.Object{rb("ada")}},
		{unit: "revokes", desired: []client.Object{rb("ada")}, existing: existing(rb("ada", "eve"))},
		{unit: "unchanged", desired: []client.Object{rb("ada")}, existing: existing(rb("ada"))},
		{unit: "pruned", existing: existing(rb("eve"))},
		{unit: "swaps", desired: []client.Object{rb("bob")}, existing: existing(rb("eve"))},
	}
	order, revokes := revokingFirst(plans)
	var got []string
	for _, i := range order {
		got = append(got, fmt.Sprintf("%s=%t", plans[i].unit, revokes[i]))
	}
	want := "[revokes=true pruned=true swaps=true grants=false new=false unchanged=false]"
	if fmt.Sprint(got) != want {
		t.Fatalf("order = %v, want %s", got, want)
	}
	for i, want := range []bool{true, true, true, false, true, true} {
		if got := plans[i].writes(); got != want {
			t.Errorf("%s: writes() = %t, want %t", plans[i].unit, got, want)
		}
	}
}

func TestWriteGate(t *testing.T) {
	g := newWriteGate()
	var leaves []func()
	for range grantWriteSlots {
		leaves = append(leaves, g.enter(true))
	}
	entered := make(chan struct{})
	go func() {
		leave := g.enter(true)
		close(entered)
		leave()
	}()
	// A revoking write passes while every grant slot is taken.
	g.enter(false)()
	select {
	case <-entered:
		t.Fatal("a grant entered while every slot was taken")
	default:
	}
	leaves[0]()
	<-entered
	for _, leave := range leaves[1:] {
		leave()
	}
	var none writeGate
	none.enter(true)()
}
