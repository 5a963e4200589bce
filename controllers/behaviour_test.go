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
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

func TestNestedGroupsWithCycle(t *testing.T) {
	ns := newNamespace(t, "nested-a", nil)
	parent := newGroup(t, "", "nested-parent")
	child := newGroup(t, "", "nested-child", parent.Name)
	grandchild := newGroup(t, "", "nested-grandchild", child.Name)
	b := newBinding(t, "", "nested-parent-read", parent, ns.Name)
	newUser(t, "", "erin", grandchild.Name)
	newUser(t, "", "frank", parent.Name)

	eventually(t, "nested member bound", expectSubjects(b.Name, ns.Name, "oidc:erin", "oidc:frank"))
	eventually(t, "effective users counted through nesting", func() error {
		var g scimv1.ScimGroup
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(parent), &g); err != nil {
			return err
		}
		if g.Status.EffectiveUsers != 2 || g.Status.UserMembers != 1 || g.Status.GroupMembers != 1 {
			return fmt.Errorf("status %+v", g.Status)
		}
		return nil
	})
	eventually(t, "erin's groups are transitive", func() error {
		var u scimv1.ScimUser
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: scimv1.ObjectNameFor("erin")}, &u); err != nil {
			return err
		}
		want := []string{child.Spec.DisplayName, grandchild.Spec.DisplayName, parent.Spec.DisplayName}
		slices.Sort(want)
		if !slices.Equal(u.Status.Groups, want) || len(u.Status.Access) != 1 {
			return fmt.Errorf("status %+v", u.Status)
		}
		return nil
	})

	// parent -> grandchild closes a cycle: parent > child > grandchild > parent.
	update(t, parent, func(g *scimv1.ScimGroup) { g.Spec.MemberOf = []string{grandchild.Name} })
	for _, g := range []*scimv1.ScimGroup{parent, child, grandchild} {
		eventually(t, "cycle reported on "+g.Name, expectCondition(g, scimv1.MembersResolvedCondition, metav1.ConditionFalse, scimv1.CycleDetectedReason))
	}
	consistently(t, "members still bound despite the cycle", time.Second, expectSubjects(b.Name, ns.Name, "oidc:erin", "oidc:frank"))

	// Breaking the cycle clears the condition.
	update(t, parent, func(g *scimv1.ScimGroup) { g.Spec.MemberOf = nil })
	eventually(t, "cycle cleared", expectCondition(parent, scimv1.MembersResolvedCondition, metav1.ConditionTrue, ""))

	// Leaving the nesting revokes access inherited through it.
	update(t, child, func(g *scimv1.ScimGroup) { g.Spec.MemberOf = nil })
	eventually(t, "nested member unbound", expectSubjects(b.Name, ns.Name, "oidc:frank"))
}

func TestNamespaceSelectorFollowsNamespaces(t *testing.T) {
	g := newGroup(t, "", "selector-devs")
	newUser(t, "", "gina", g.Name)
	b := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "selector-devs-read"},
		Spec: scimv1.ScimGroupBindingSpec{
			Group:             strings.ToUpper(g.Spec.DisplayName), // matched case-insensitively
			RoleRef:           scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "selector"}},
			Namespaces:        []string{"selector-listed"},
		},
	}
	mustCreate(t, b)
	newNamespace(t, "selector-early", map[string]string{"team": "selector"})
	newNamespace(t, "selector-other", map[string]string{"team": "other"})
	eventually(t, "matching namespace bound", expectSubjects(b.Name, "selector-early", "oidc:gina"))

	late := newNamespace(t, "selector-late", map[string]string{"team": "selector"})
	newNamespace(t, "selector-listed", nil)
	eventually(t, "namespace created later bound", expectSubjects(b.Name, "selector-late", "oidc:gina"))
	eventually(t, "listed namespace created later bound", expectSubjects(b.Name, "selector-listed", "oidc:gina"))
	eventually(t, "access granted in the new namespace", expectAllowed("oidc:gina", "get", "configmaps", "selector-late", true))

	update(t, late, func(ns *corev1.Namespace) { ns.Labels["team"] = "other" })
	eventually(t, "relabelled namespace pruned", expectSubjects(b.Name, "selector-late"))
	eventually(t, "access revoked in the relabelled namespace", expectAllowed("oidc:gina", "get", "configmaps", "selector-late", false))
	eventually(t, "bound namespaces in status", func() error {
		var cur scimv1.ScimGroupBinding
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(b), &cur); err != nil {
			return err
		}
		want := []string{"selector-early", "selector-listed"}
		if !slices.Equal(cur.Status.BoundNamespaces, want) || cur.Status.NamespaceCount != 2 {
			return fmt.Errorf("status %+v", cur.Status)
		}
		return nil
	})
	if err := expectSubjects(b.Name, "selector-other")(); err != nil {
		t.Error(err)
	}
}

func TestDriftIsRestored(t *testing.T) {
	ns := newNamespace(t, "drift-a", nil)
	g := newGroup(t, "", "drift-devs")
	b := newBinding(t, "", "drift-devs-read", g, ns.Name)
	newUser(t, "", "hank", g.Name)
	eventually(t, "bound", expectSubjects(b.Name, ns.Name, "oidc:hank"))

	rbs, _ := managedRoleBindings(b.Name)
	rb := &rbs[0]
	update(t, rb, func(rb *rbacv1.RoleBinding) {
		rb.Subjects = append(rb.Subjects, rbacv1.Subject{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "mallory"})
	})
	eventually(t, "hand-added subject removed", expectSubjects(b.Name, ns.Name, "oidc:hank"))

	if err := k8s.Delete(context.Background(), rb); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted RoleBinding recreated", func() error {
		rbs, err := managedRoleBindings(b.Name)
		if err != nil {
			return err
		}
		if len(rbs) != 1 || rbs[0].UID == rb.UID {
			return fmt.Errorf("RoleBindings %d (old uid %s)", len(rbs), rb.UID)
		}
		return expectSubjects(b.Name, ns.Name, "oidc:hank")()
	})
}

func TestEscalationIsRefused(t *testing.T) {
	ns := newNamespace(t, "escalation-a", nil)
	g := newGroup(t, "", "escalation-devs")
	newUser(t, "", "ivan", g.Name)
	b := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "escalation-admin"},
		Spec: scimv1.ScimGroupBindingSpec{Group: g.Spec.DisplayName, Scope: scimv1.ScopeCluster,
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"}},
	}
	mustCreate(t, b)
	eventually(t, "refused", expectCondition(b, scimv1.RoleBindableCondition, metav1.ConditionFalse, scimv1.RoleNotAllowedReason))
	eventually(t, "not ready", expectCondition(b, scimv1.ReadyCondition, metav1.ConditionFalse, scimv1.RoleNotAllowedReason))
	consistently(t, "nothing created", time.Second, func() error {
		var crbs rbacv1.ClusterRoleBindingList
		if err := k8s.List(context.Background(), &crbs, client.MatchingLabels{scimv1.BindingLabel: b.Name}); err != nil {
			return err
		}
		if len(crbs.Items) != 0 {
			return fmt.Errorf("%d ClusterRoleBindings", len(crbs.Items))
		}
		return nil
	})
	if ok, _ := allowed("oidc:ivan", "delete", "nodes", ""); ok {
		t.Error("ivan became cluster-admin")
	}

	// An allowed binding that is switched to a forbidden role loses what it had.
	ok := newBinding(t, "", "escalation-read", g, ns.Name)
	eventually(t, "allowed binding works", expectSubjects(ok.Name, ns.Name, "oidc:ivan"))
	update(t, ok, func(b *scimv1.ScimGroupBinding) { b.Spec.RoleRef.Name = "admin2" })
	eventually(t, "switched binding refused", expectCondition(ok, scimv1.RoleBindableCondition, metav1.ConditionFalse, scimv1.RoleNotAllowedReason))
	eventually(t, "its RoleBindings pruned", func() error {
		rbs, err := managedRoleBindings(ok.Name)
		if err == nil && len(rbs) != 0 {
			err = fmt.Errorf("%d RoleBindings left", len(rbs))
		}
		return err
	})
}

func TestSystemNamesAreRefused(t *testing.T) {
	ns := newNamespace(t, "reserved-a", nil)
	g := newGroup(t, "", "reserved-devs")
	b := newBinding(t, "", "reserved-devs-read", g, ns.Name)
	newUser(t, "", "judy", g.Name)
	bad := newUser(t, "", "system:masters", g.Name)
	sneaky := newUser(t, "", "System:ServiceAccount:kube-system:default", g.Name)

	eventually(t, "only judy bound", expectSubjects(b.Name, ns.Name, "oidc:judy"))
	for _, u := range []*scimv1.ScimUser{bad, sneaky} {
		eventually(t, "refusal on "+u.Name, expectCondition(u, scimv1.SubjectValidCondition, metav1.ConditionFalse, scimv1.ReservedSubjectNameReason))
		eventually(t, "not ready "+u.Name, expectCondition(u, scimv1.ReadyCondition, metav1.ConditionFalse, scimv1.ReservedSubjectNameReason))
	}
	consistently(t, "never bound", 500*time.Millisecond, expectSubjects(b.Name, ns.Name, "oidc:judy"))
	eventually(t, "refusal event", func() error {
		var list eventsv1.EventList
		if err := k8s.List(context.Background(), &list, client.InNamespace("default")); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == bad.Name && e.Reason == "Refused" {
				return nil
			}
		}
		return fmt.Errorf("no Refused event among %d", len(list.Items))
	})
}

func TestGroupNotFoundThenCreated(t *testing.T) {
	ns := newNamespace(t, "latergroup-a", nil)
	b := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "latergroup-read"},
		Spec: scimv1.ScimGroupBindingSpec{Group: "latergroup display", Namespaces: []string{ns.Name},
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole}},
	}
	mustCreate(t, b)
	eventually(t, "group not found", expectCondition(b, scimv1.GroupFoundCondition, metav1.ConditionFalse, scimv1.GroupNotFoundReason))
	g := newGroup(t, "", "latergroup")
	newUser(t, "", "kim", g.Name)
	eventually(t, "bound once the group exists", expectSubjects(b.Name, ns.Name, "oidc:kim"))
	eventually(t, "group found", expectCondition(b, scimv1.GroupFoundCondition, metav1.ConditionTrue, ""))
}

func TestGroupDeletionStripsMemberOfAndRevokes(t *testing.T) {
	ns := newNamespace(t, "groupdel-a", nil)
	g := newGroup(t, "", "groupdel-devs")
	other := newGroup(t, "", "groupdel-other")
	sub := newGroup(t, "", "groupdel-sub", g.Name)
	b := newBinding(t, "", "groupdel-read", g, ns.Name)
	leo := newUser(t, "", "leo", g.Name, other.Name)
	newUser(t, "", "mia", sub.Name)
	eventually(t, "bound", expectSubjects(b.Name, ns.Name, "oidc:leo", "oidc:mia"))
	eventually(t, "finalizer added", func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(g), g); err != nil {
			return err
		}
		if !slices.Contains(g.Finalizers, scimv1.GroupFinalizer) {
			return fmt.Errorf("finalizers %v", g.Finalizers)
		}
		return nil
	})

	if err := k8s.Delete(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	eventually(t, "group gone", func() error {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(g), &scimv1.ScimGroup{})
		if client.IgnoreNotFound(err) != nil {
			return err
		}
		if err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	for _, obj := range []client.Object{leo, sub} {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(leo.Spec.MemberOf, []string{other.Name}) || len(sub.Spec.MemberOf) != 0 {
		t.Errorf("memberOf not stripped: user %v, group %v", leo.Spec.MemberOf, sub.Spec.MemberOf)
	}
	eventually(t, "access revoked", expectSubjects(b.Name, ns.Name))
	eventually(t, "binding reports the missing group", expectCondition(b, scimv1.GroupFoundCondition, metav1.ConditionFalse, scimv1.GroupNotFoundReason))
}

func TestBindingDeletionPrunesItsRoleBindings(t *testing.T) {
	ns := newNamespace(t, "bindingdel-a", nil)
	g := newGroup(t, "", "bindingdel-devs")
	b := newBinding(t, "", "bindingdel-read", g, ns.Name)
	newUser(t, "", "nina", g.Name)
	eventually(t, "bound", expectSubjects(b.Name, ns.Name, "oidc:nina"))
	if err := k8s.Delete(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	// envtest runs no garbage collector: this is kubescim's own pruning.
	eventually(t, "pruned", func() error {
		rbs, err := managedRoleBindings(b.Name)
		if err == nil && len(rbs) != 0 {
			err = fmt.Errorf("%d RoleBindings left", len(rbs))
		}
		return err
	})
	eventually(t, "nina lost access", expectAllowed("oidc:nina", "get", "pods", ns.Name, false))
}

func TestClusterScopeAndRoleKinds(t *testing.T) {
	g := newGroup(t, "", "cluster-devs")
	newUser(t, "", "olga", g.Name)
	b := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-devs-read"},
		Spec: scimv1.ScimGroupBindingSpec{Group: g.Spec.DisplayName, Scope: scimv1.ScopeCluster,
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole}},
	}
	mustCreate(t, b)
	eventually(t, "cluster-wide access", expectAllowed("oidc:olga", "list", "pods", "any-namespace", true))
	var crb rbacv1.ClusterRoleBinding
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: "kubescim-" + b.Name}, &crb); err != nil {
		t.Fatal(err)
	}
	if crb.Labels[scimv1.BindingLabel] != b.Name || len(crb.OwnerReferences) != 1 {
		t.Errorf("ClusterRoleBinding metadata: %v %v", crb.Labels, crb.OwnerReferences)
	}
	eventually(t, "cluster grant in user status", func() error {
		var u scimv1.ScimUser
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: scimv1.ObjectNameFor("olga")}, &u); err != nil {
			return err
		}
		if len(u.Status.Access) != 1 || u.Status.Access[0].Scope != scimv1.ScopeCluster || len(u.Status.Access[0].Namespaces) != 0 || u.Status.AccessSummary != "*:"+readerRole {
			return fmt.Errorf("access %+v", u.Status.Access)
		}
		return nil
	})

	// A namespaced Role is bound by name in each selected namespace.
	ns := newNamespace(t, "rolekind-a", nil)
	mustCreate(t, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "deployer", Namespace: ns.Name},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}},
	})
	rb := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-devs-deploy"},
		Spec: scimv1.ScimGroupBindingSpec{Group: g.Spec.DisplayName, Namespaces: []string{ns.Name},
			RoleRef: scimv1.RoleRef{Kind: "Role", Name: "deployer"}},
	}
	mustCreate(t, rb)
	eventually(t, "Role granted", expectAllowed("oidc:olga", "get", "secrets", ns.Name, true))
	eventually(t, "ready", expectCondition(rb, scimv1.ReadyCondition, metav1.ConditionTrue, ""))
}
