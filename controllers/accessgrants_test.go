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
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// A binding over several namespaces is one status.access entry that lists them, sorted, and
// follows the binding when a namespace leaves it.
func TestUserAccessIsOneEntryPerBinding(t *testing.T) {
	for _, ns := range []string{"grants-c", "grants-a", "grants-b"} {
		newNamespace(t, ns, nil)
	}
	g := newGroup(t, "", "grants-devs")
	wide := newBinding(t, "", "grants-wide", g, "grants-c", "grants-a", "grants-b")
	narrow := newBinding(t, "", "grants-narrow", g, "grants-a")
	gina := newUser(t, "", "gina@example.com", g.Name)
	role := "ClusterRole/" + readerRole
	grant := func(b *scimv1.ScimGroupBinding, namespaces ...string) scimv1.AccessGrant {
		return scimv1.AccessGrant{Scope: scimv1.ScopeNamespaced, Namespaces: namespaces, Role: role, Binding: b.Name, Group: g.Spec.DisplayName}
	}
	expectAccess := func(pairs int, want ...scimv1.AccessGrant) func() error {
		return func() error {
			var u scimv1.ScimUser
			if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(gina), &u); err != nil {
				return err
			}
			if !reflect.DeepEqual(u.Status.Access, want) {
				return fmt.Errorf("access %+v", u.Status.Access)
			}
			ready := meta.FindStatusCondition(u.Status.Conditions, scimv1.ReadyCondition)
			if msg := fmt.Sprintf("%d grants through 1 groups", pairs); ready == nil || ready.Message != msg {
				return fmt.Errorf("Ready %+v, want message %q", ready, msg)
			}
			return nil
		}
	}
	eventually(t, "one entry per binding", expectAccess(4, grant(narrow, "grants-a"), grant(wide, "grants-a", "grants-b", "grants-c")))
	update(t, wide, func(b *scimv1.ScimGroupBinding) { b.Spec.Namespaces = []string{"grants-b"} })
	eventually(t, "the entry follows the binding", expectAccess(2, grant(narrow, "grants-a"), grant(wide, "grants-b")))
}

func TestCapGrantsKeepsTheFirstPairs(t *testing.T) {
	ns := func(g scimv1.AccessGrant, names ...string) scimv1.AccessGrant {
		g.Scope, g.Namespaces = scimv1.ScopeNamespaced, names
		return g
	}
	a := scimv1.AccessGrant{Role: "ClusterRole/view", Binding: "a", Group: "devs"}
	cluster := scimv1.AccessGrant{Scope: scimv1.ScopeCluster, Role: "ClusterRole/view", Binding: "b", Group: "ops"}
	c := scimv1.AccessGrant{Role: "Role/deployer", Binding: "c", Group: "ops"}
	grants := []scimv1.AccessGrant{ns(a, "x", "y", "z"), cluster, ns(c, "x", "y")}
	tests := []struct {
		max  int
		want []scimv1.AccessGrant
	}{
		{6, grants},
		{10, grants},
		{5, []scimv1.AccessGrant{ns(a, "x", "y", "z"), cluster, ns(c, "x")}},
		{4, []scimv1.AccessGrant{ns(a, "x", "y", "z"), cluster}},
		{3, []scimv1.AccessGrant{ns(a, "x", "y", "z")}},
		{2, []scimv1.AccessGrant{ns(a, "x", "y")}},
		{0, nil},
	}
	for _, tt := range tests {
		got, total := capGrants(grants, tt.max)
		if total != 6 {
			t.Errorf("max %d: total %d, want 6", tt.max, total)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("max %d: got %+v, want %+v", tt.max, got, tt.want)
		}
		pairs := 0
		for _, g := range got {
			pairs += pairCount(g)
		}
		if pairs > tt.max {
			t.Errorf("max %d: kept %d pairs", tt.max, pairs)
		}
	}
	if len(grants[0].Namespaces) != 3 {
		t.Errorf("capGrants changed its input: %+v", grants[0])
	}
}

func TestGrantPairsAndSummary(t *testing.T) {
	grants := []scimv1.AccessGrant{
		{Scope: scimv1.ScopeNamespaced, Namespaces: []string{"team-b", "team-a"}, Role: "ClusterRole/edit", Binding: "edit", Group: "devs"},
		{Scope: scimv1.ScopeCluster, Role: "ClusterRole/view", Binding: "view", Group: "all"},
		{Scope: scimv1.ScopeNamespaced, Namespaces: []string{"team-a"}, Role: "ClusterRole/edit", Binding: "edit-2", Group: "ops"},
	}
	want := []grantPair{
		{"", "ClusterRole/view", "view", "all"},
		{"team-a", "ClusterRole/edit", "edit", "devs"},
		{"team-a", "ClusterRole/edit", "edit-2", "ops"},
		{"team-b", "ClusterRole/edit", "edit", "devs"},
	}
	pairs := grantPairs(grants)
	if !reflect.DeepEqual(pairs, want) {
		t.Fatalf("pairs %+v, want %+v", pairs, want)
	}
	if got, want := accessSummary(pairs), "*:view, team-a:edit, team-b:edit"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}
