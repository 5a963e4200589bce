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
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
)

func user(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

// lines returns the output's lines with runs of spaces collapsed, so tests do not depend on
// column widths.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return out
}

func TestTables(t *testing.T) {
	plan := controllers.Plan{Binding: "dev-edit", Role: "ClusterRole/edit", Unchanged: 1,
		Grant: []controllers.Change{{Namespace: "team-a", Role: "ClusterRole/edit", Subject: user("oidc:alice"), User: "alice"}},
		Revoke: []controllers.Change{{Role: "ClusterRole/edit", Subject: rbacv1.Subject{Kind: rbacv1.ServiceAccountKind,
			Namespace: "kubescim-users", Name: "bob"}}},
		Skipped: []scimv1.GroupMatch{{Group: "team-Web-dev", Skipped: "not a valid namespace name"}}}
	refused := controllers.Plan{Binding: "dev-admin", Role: "ClusterRole/cluster-admin",
		Refused: &controllers.Refusal{Reason: "RoleNotAllowed", Message: "ClusterRole/cluster-admin is not in kubescim's bindable roles"}}
	access := controllers.Access{User: "alice-1a2b", UserName: "alice", ID: "1a2b", Active: true,
		Grants: []controllers.Grant{{Role: "ClusterRole/view", Binding: "all-view", Group: "everyone", Via: []string{"devs", "everyone"}},
			{Namespace: "team-a", Role: "ClusterRole/edit", Binding: "dev-edit", Group: "devs", Via: []string{"devs"}}}}
	inactive := controllers.Access{User: "carol-9f", UserName: "carol", ID: "9f", NoAccess: "the user is inactive: kubescim grants it nothing"}
	members := controllers.Members{Group: "devs", Groups: []string{"devs"},
		Users:  []controllers.Member{{Name: "alice-1a2b", DisplayName: "alice", Active: true, Direct: true, Via: "devs"}, {Name: "carol-9f", DisplayName: "carol", Via: "ops"}},
		Nested: []controllers.Member{{Name: "ops", DisplayName: "ops", Active: true, Direct: true, Via: "devs"}}}
	for _, tc := range []struct {
		name  string
		print func(*bytes.Buffer) error
		want  []string
	}{
		{"plan", func(b *bytes.Buffer) error { return printPlan(b, plan) }, []string{
			"ScimGroupBinding dev-edit (ClusterRole/edit): 1 to grant, 1 to revoke, 1 unchanged",
			"Skipped group team-Web-dev: not a valid namespace name.",
			"ACTION NAMESPACE ROLE SUBJECT USER",
			"grant team-a ClusterRole/edit User/oidc:alice alice",
			"revoke * ClusterRole/edit ServiceAccount/kubescim-users/bob -",
		}},
		{"refused plan", func(b *bytes.Buffer) error { return printPlan(b, refused) }, []string{
			"ScimGroupBinding dev-admin (ClusterRole/cluster-admin): 0 to grant, 0 to revoke, 0 unchanged",
			"Refused (RoleNotAllowed): ClusterRole/cluster-admin is not in kubescim's bindable roles. kubescim would grant nothing for this binding.",
			"No change.",
		}},
		{"access", func(b *bytes.Buffer) error { return printAccess(b, access) }, []string{
			"User alice-1a2b (userName alice, id 1a2b): active",
			"NAMESPACE ROLE BINDING GROUP VIA",
			"* ClusterRole/view all-view everyone devs > everyone",
			"team-a ClusterRole/edit dev-edit devs devs",
		}},
		{"inactive", func(b *bytes.Buffer) error { return printAccess(b, inactive) }, []string{
			"User carol-9f (userName carol, id 9f): inactive",
			"No access: the user is inactive: kubescim grants it nothing.",
		}},
		{"members", func(b *bytes.Buffer) error { return printMembers(b, members) }, []string{
			"Group devs (devs): 2 users, 1 nested groups",
			"KIND NAME DISPLAY NAME STATE MEMBERSHIP VIA",
			"User alice-1a2b alice active direct devs",
			"User carol-9f carol inactive nested ops",
			"Group ops ops - direct devs",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.print(&b); err != nil {
				t.Fatal(err)
			}
			if got := lines(b.String()); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestStructuredOutput(t *testing.T) {
	plan := controllers.Plan{Binding: "dev-edit", Role: "ClusterRole/edit", Namespaces: []string{"team-a"},
		Grant: []controllers.Change{{Namespace: "team-a", Role: "ClusterRole/edit", Subject: user("alice"), User: "alice"}}, Revoke: []controllers.Change{}}
	noTable := func(io.Writer) error { t.Fatal("table printed for a structured format"); return nil }
	for _, format := range []string{"json", "yaml"} {
		var b bytes.Buffer
		if err := printAs(&b, format, plan, noTable); err != nil {
			t.Fatal(err)
		}
		var back controllers.Plan
		var err error
		if format == "json" {
			err = json.Unmarshal(b.Bytes(), &back)
		} else {
			err = yaml.UnmarshalStrict(b.Bytes(), &back)
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, b.String())
		}
		if back.Binding != "dev-edit" || len(back.Grant) != 1 || back.Grant[0].Subject.Name != "alice" || !strings.Contains(b.String(), "revoke") {
			t.Errorf("%s does not round-trip: %s", format, b.String())
		}
	}
}

func TestPreviewExitCodes(t *testing.T) {
	change := []controllers.Change{{Role: "ClusterRole/view", Subject: user("alice")}}
	for _, tc := range []struct {
		plan controllers.Plan
		want int
	}{
		{controllers.Plan{}, exitOK},
		{controllers.Plan{Grant: change}, exitChanges},
		{controllers.Plan{Revoke: change}, exitChanges},
		{controllers.Plan{Revoke: change, Refused: &controllers.Refusal{Reason: "GroupNotFound"}}, exitRefused},
	} {
		got := exitOK
		if err := previewExit(tc.plan); err != nil {
			got = int(err.(exitCode))
		}
		if got != tc.want {
			t.Errorf("%+v: exit %d, want %d", tc.plan, got, tc.want)
		}
	}
}

func TestReadBindingIsStrict(t *testing.T) {
	good := "apiVersion: scim.kubescim.io/v1alpha1\nkind: ScimGroupBinding\nmetadata: {name: dev-edit}\nspec: {group: devs, roleRef: {kind: ClusterRole, name: edit}}\n"
	if b, err := readBinding(strings.NewReader(good), "-"); err != nil || b.Spec.Group != "devs" {
		t.Fatalf("good binding: %v %+v", err, b)
	}
	for name, in := range map[string]string{
		"typo":    strings.Replace(good, "group:", "gruop:", 1),
		"kind":    strings.Replace(good, "ScimGroupBinding", "RoleBinding", 1),
		"no name": strings.Replace(good, "{name: dev-edit}", "{}", 1),
	} {
		if _, err := readBinding(strings.NewReader(in), "-"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
