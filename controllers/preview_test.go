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
	"errors"
	"fmt"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Preview, AccessOf and MembersOf run on the admin client straight to the API server, as the
// kubectl plugin does: no cache, no field indexes. The main manager reconciles the same objects,
// so a preview of the binding as it is must agree with what the controllers wrote.

// changeNames renders changes as "namespace role subject" lines.
func changeNames(cs []Change) string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %s %s", c.Namespace, c.Role, c.Subject.Name))
	}
	return strings.Join(out, "; ")
}

func TestPreviewAndAccess(t *testing.T) {
	ctx := context.Background()
	newNamespace(t, "pv-a", nil)
	newNamespace(t, "pv-b", nil)
	team := newGroup(t, "", "pv-team")
	sub := newGroup(t, "", "pv-sub", team.Name)
	newUser(t, "", "pv-alice", team.Name)
	newUser(t, "", "pv-bob", sub.Name)
	carol := newUser(t, "", "pv-carol", team.Name)
	setActive(t, carol, false)
	b := newBinding(t, "", "pv-read", team, "pv-a")
	eventually(t, "binding in effect", expectSubjects("pv-read", "pv-a", "oidc:pv-alice", "oidc:pv-bob"))
	role := "ClusterRole/" + readerRole

	t.Run("unchanged binding changes nothing", func(t *testing.T) {
		plan, err := Preview(ctx, k8s, b, mainOptions)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Changed() || plan.Unchanged != 2 || plan.Refused != nil {
			t.Fatalf("got %+v, want 2 unchanged grants and no change", plan)
		}
	})

	t.Run("moving namespaces grants there and revokes here", func(t *testing.T) {
		moved := b.DeepCopy()
		moved.Spec.Namespaces = []string{"pv-b"}
		plan, err := Preview(ctx, k8s, moved, mainOptions)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := changeNames(plan.Grant), "pv-b "+role+" oidc:pv-alice; pv-b "+role+" oidc:pv-bob"; got != want {
			t.Errorf("grant: got %q, want %q", got, want)
		}
		if got, want := changeNames(plan.Revoke), "pv-a "+role+" oidc:pv-alice; pv-a "+role+" oidc:pv-bob"; got != want {
			t.Errorf("revoke: got %q, want %q", got, want)
		}
		if plan.Revoke[0].User != "pv-alice" || plan.Grant[1].User != "pv-bob" {
			t.Errorf("users not traced: %+v %+v", plan.Revoke[0], plan.Grant[1])
		}
	})

	t.Run("a refused role revokes everything", func(t *testing.T) {
		admin := b.DeepCopy()
		admin.Spec.RoleRef = scimv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"}
		plan, err := Preview(ctx, k8s, admin, mainOptions)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Refused == nil || plan.Refused.Reason != scimv1.RoleNotAllowedReason {
			t.Fatalf("refused: got %+v, want %s", plan.Refused, scimv1.RoleNotAllowedReason)
		}
		if len(plan.Grant) != 0 || len(plan.Revoke) != 2 {
			t.Fatalf("got grant %q revoke %q, want nothing granted and both revoked", changeNames(plan.Grant), changeNames(plan.Revoke))
		}
	})

	t.Run("a new binding of the nested group grants its member only", func(t *testing.T) {
		nb := &scimv1.ScimGroupBinding{Spec: scimv1.ScimGroupBindingSpec{Group: sub.Spec.DisplayName,
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "view"}, Scope: scimv1.ScopeCluster}}
		nb.Name = "pv-new"
		plan, err := Preview(ctx, k8s, nb, mainOptions)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := changeNames(plan.Grant), " ClusterRole/view oidc:pv-bob"; got != want || len(plan.Revoke) != 0 {
			t.Fatalf("got grant %q revoke %q, want %q only", got, changeNames(plan.Revoke), want)
		}
	})

	t.Run("preview wrote nothing", func(t *testing.T) {
		if err := expectSubjects("pv-read", "pv-a", "oidc:pv-alice", "oidc:pv-bob")(); err != nil {
			t.Error(err)
		}
		if err := expectSubjects("pv-read", "pv-b")(); err != nil {
			t.Error(err)
		}
		var crbs rbacv1.ClusterRoleBindingList
		if err := k8s.List(ctx, &crbs); err != nil {
			t.Fatal(err)
		}
		for _, c := range crbs.Items {
			if c.Name == managedBindingName("pv-new", 0) {
				t.Errorf("preview created %s", c.Name)
			}
		}
	})

	t.Run("access of a direct and a nested member", func(t *testing.T) {
		a, err := AccessOf(ctx, k8s, scimv1.ObjectNameFor("pv-alice"), mainOptions)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Active || len(a.Grants) != 1 {
			t.Fatalf("alice: got %+v, want one grant", a)
		}
		if g := a.Grants[0]; g.Namespace != "pv-a" || g.Role != role || g.Binding != "pv-read" || g.Group != team.Spec.DisplayName ||
			strings.Join(g.Via, ">") != team.Spec.DisplayName {
			t.Fatalf("alice: got %+v", g)
		}
		a, err = AccessOf(ctx, k8s, "PV-Bob", mainOptions) // by userName, case-insensitively
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Grants) != 1 || strings.Join(a.Grants[0].Via, ">") != sub.Spec.DisplayName+">"+team.Spec.DisplayName {
			t.Fatalf("bob: got %+v, want one grant through %s", a, sub.Spec.DisplayName)
		}
	})

	t.Run("an inactive user has no access", func(t *testing.T) {
		a, err := AccessOf(ctx, k8s, "pv-carol", mainOptions)
		if err != nil {
			t.Fatal(err)
		}
		if a.Active || len(a.Grants) != 0 || !strings.Contains(a.NoAccess, "inactive") {
			t.Fatalf("carol: got %+v, want inactive with no grants", a)
		}
	})

	t.Run("an unknown user is not found", func(t *testing.T) {
		if _, err := AccessOf(ctx, k8s, "pv-nobody", mainOptions); !errors.Is(err, ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
		if _, err := MembersOf(ctx, k8s, "pv-nogroup", mainOptions); !errors.Is(err, ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
	})

	t.Run("members direct and nested", func(t *testing.T) {
		m, err := MembersOf(ctx, k8s, team.Spec.DisplayName, mainOptions)
		if err != nil {
			t.Fatal(err)
		}
		var users []string
		for _, u := range m.Users {
			users = append(users, fmt.Sprintf("%s/%t/%t/%s", u.DisplayName, u.Active, u.Direct, u.Via))
		}
		want := fmt.Sprintf("pv-alice/true/true/%[1]s pv-bob/true/false/%[2]s pv-carol/false/true/%[1]s", team.Spec.DisplayName, sub.Spec.DisplayName)
		if got := strings.Join(users, " "); got != want {
			t.Errorf("users: got %q, want %q", got, want)
		}
		if len(m.Nested) != 1 || m.Nested[0].Name != sub.Name || !m.Nested[0].Direct {
			t.Errorf("nested: got %+v, want %s", m.Nested, sub.Name)
		}
	})
}
