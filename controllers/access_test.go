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
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

func TestGroupMembershipBecomesRoleBindingSubjects(t *testing.T) {
	ns := newNamespace(t, "membership-a", nil)
	g := newGroup(t, "", "membership-devs")
	b := newBinding(t, "", "membership-devs-read", g, ns.Name)
	alice := newUser(t, "", "alice@example.com", g.Name)
	newUser(t, "", "bob@example.com") // in no group

	eventually(t, "alice bound", expectSubjects(b.Name, ns.Name, "oidc:alice@example.com"))
	eventually(t, "authorizer lets alice read pods", expectAllowed("oidc:alice@example.com", "get", "pods", ns.Name, true))
	if err := expectAllowed("oidc:bob@example.com", "get", "pods", ns.Name, false)(); err != nil {
		t.Fatal(err)
	}

	rbs, err := managedRoleBindings(b.Name)
	if err != nil || len(rbs) != 1 {
		t.Fatalf("want one RoleBinding, got %d (%v)", len(rbs), err)
	}
	rb := rbs[0]
	if rb.Name != "kubescim-"+b.Name || rb.Labels[scimv1.ManagedByLabel] != "kubescim" {
		t.Errorf("RoleBinding name/labels: %s %v", rb.Name, rb.Labels)
	}
	if rb.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: readerRole}) {
		t.Errorf("roleRef: %+v", rb.RoleRef)
	}
	var current scimv1.ScimGroupBinding
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(b), &current); err != nil {
		t.Fatal(err)
	}
	if len(rb.OwnerReferences) != 1 || rb.OwnerReferences[0].UID != current.UID || !ptr.Deref(rb.OwnerReferences[0].Controller, false) {
		t.Errorf("ownerReferences: %+v", rb.OwnerReferences)
	}

	eventually(t, "binding status", func() error {
		var cur scimv1.ScimGroupBinding
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(b), &cur); err != nil {
			return err
		}
		if cur.Status.Subjects != 1 || cur.Status.NamespaceCount != 1 || cur.Status.BoundNamespaces[0] != ns.Name ||
			cur.Status.ObservedGeneration != cur.Generation {
			return fmt.Errorf("status %+v", cur.Status)
		}
		return expectCondition(&cur, scimv1.ReadyCondition, "True", scimv1.ReconciledReason)()
	})
	eventually(t, "alice's effective access", func() error {
		var u scimv1.ScimUser
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(alice), &u); err != nil {
			return err
		}
		want := scimv1.AccessGrant{Scope: scimv1.ScopeNamespaced, Namespaces: []string{ns.Name}, Role: "ClusterRole/" + readerRole, Binding: b.Name, Group: g.Spec.DisplayName}
		if len(u.Status.Access) != 1 || !reflect.DeepEqual(u.Status.Access[0], want) {
			return fmt.Errorf("access %+v", u.Status.Access)
		}
		if u.Status.AccessSummary != ns.Name+":"+readerRole || u.Status.GroupCount != 1 || u.Status.Groups[0] != g.Spec.DisplayName {
			return fmt.Errorf("status %+v", u.Status)
		}
		if len(u.Status.Subjects) != 1 || u.Status.Subjects[0].Name != "oidc:alice@example.com" {
			return fmt.Errorf("subjects %+v", u.Status.Subjects)
		}
		return expectCondition(&u, scimv1.ReadyCondition, "True", "")()
	})
	eventually(t, "group status", func() error {
		var cur scimv1.ScimGroup
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(g), &cur); err != nil {
			return err
		}
		if cur.Status.UserMembers != 1 || cur.Status.EffectiveUsers != 1 || len(cur.Status.Bindings) != 1 || cur.Status.Bindings[0] != b.Name {
			return fmt.Errorf("status %+v", cur.Status)
		}
		return nil
	})
	if lines := auditSink.matching(`"change":"granted"`, `"binding":"`+b.Name+`"`, `"userId":"`+string(alice.UID)+`"`, `"changedBy":"okta-test"`); len(lines) == 0 {
		t.Errorf("no audit line for alice's grant")
	}

	// Removing alice from the group revokes her access.
	update(t, alice, func(u *scimv1.ScimUser) { u.Spec.MemberOf = nil })
	eventually(t, "alice unbound", expectSubjects(b.Name, ns.Name))
	eventually(t, "authorizer refuses alice", expectAllowed("oidc:alice@example.com", "get", "pods", ns.Name, false))
	// A binding without members keeps one RoleBinding with no subjects (documented in doc.go).
	if rbs, err := managedRoleBindings(b.Name); err != nil || len(rbs) != 1 || len(rbs[0].Subjects) != 0 {
		t.Errorf("empty binding: %d RoleBindings (%v)", len(rbs), err)
	}
	eventually(t, "alice's access cleared", func() error {
		var u scimv1.ScimUser
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(alice), &u); err != nil {
			return err
		}
		if len(u.Status.Access) != 0 || u.Status.GroupCount != 0 {
			return fmt.Errorf("status %+v", u.Status)
		}
		return nil
	})
	if lines := auditSink.matching(`"change":"revoked"`, `"binding":"`+b.Name+`"`, `"userName":"alice@example.com"`); len(lines) == 0 {
		t.Errorf("no audit line for alice's revocation")
	}
	for _, l := range auditSink.matching(`"binding":"` + b.Name + `"`) {
		if strings.Contains(strings.ToLower(l), "token\":\"") {
			t.Errorf("audit line carries a token field: %s", l)
		}
	}
}

func TestDeactivateReactivateAndDeleteUser(t *testing.T) {
	ns := newNamespace(t, "lifecycle-a", nil)
	g := newGroup(t, "", "lifecycle-devs")
	b := newBinding(t, "", "lifecycle-devs-read", g, ns.Name)
	carol := newUser(t, "", "carol", g.Name)
	dave := newUser(t, "", "dave", g.Name)
	eventually(t, "both bound", expectSubjects(b.Name, ns.Name, "oidc:carol", "oidc:dave"))

	setActive(t, carol, false)
	eventually(t, "carol unbound", expectSubjects(b.Name, ns.Name, "oidc:dave"))
	eventually(t, "carol inactive", expectCondition(carol, scimv1.ReadyCondition, "False", scimv1.InactiveReason))
	eventually(t, "authorizer refuses carol", expectAllowed("oidc:carol", "list", "pods", ns.Name, false))

	setActive(t, carol, true)
	eventually(t, "carol bound again", expectSubjects(b.Name, ns.Name, "oidc:carol", "oidc:dave"))
	eventually(t, "carol ready", expectCondition(carol, scimv1.ReadyCondition, "True", ""))

	if err := k8s.Delete(context.Background(), dave); err != nil {
		t.Fatal(err)
	}
	eventually(t, "dave unbound", expectSubjects(b.Name, ns.Name, "oidc:carol"))
	eventually(t, "dave's removal audited", func() error {
		if len(auditSink.matching(`"change":"revoked"`, `"userName":"dave"`, `"binding":"`+b.Name+`"`)) == 0 {
			return fmt.Errorf("no audit line")
		}
		return nil
	})
}
