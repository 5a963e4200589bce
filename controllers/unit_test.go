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
	"fmt"
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

func TestParseRoleNames(t *testing.T) {
	tests := []struct {
		in      string
		want    []RoleName
		wantErr bool
	}{
		{"ClusterRole/view,edit,Role/deployer", []RoleName{{"ClusterRole", "view"}, {"ClusterRole", "edit"}, {"Role", "deployer"}}, false},
		{" view , ,admin ", []RoleName{{"ClusterRole", "view"}, {"ClusterRole", "admin"}}, false},
		{"", []RoleName{}, false},
		{"Group/x", nil, true},
		{"ClusterRole/", nil, true},
		{"ClusterRole/a/b", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseRoleNames(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ParseRoleNames(%q) = %v, %v; want %v (error %t)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestOptionsDefaultsAndAllowList(t *testing.T) {
	o := Options{}.withDefaults()
	if o.SubjectAttribute != SubjectUserName || o.ServiceAccountNamespace != "kubescim-users" || o.MaxSubjectsPerBinding != 1000 {
		t.Errorf("defaults: %+v", o)
	}
	if !o.roleAllowed("ClusterRole", "edit") || o.roleAllowed("ClusterRole", "cluster-admin") || o.roleAllowed("Role", "edit") {
		t.Error("default allow-list is view, edit, admin ClusterRoles only")
	}
	if err := (Options{SubjectAttribute: "mail"}).withDefaults().validate(); err == nil {
		t.Error("unknown subject attribute accepted")
	}
}

func TestNameSubject(t *testing.T) {
	user := func(userName, externalID string, emails ...scimv1.MultiValuedAttribute) *scimv1.ScimUser {
		return &scimv1.ScimUser{Spec: scimv1.ScimUserSpec{UserName: userName, ExternalID: externalID, Emails: emails}}
	}
	work := scimv1.MultiValuedAttribute{Value: "a@work.example"}
	home := scimv1.MultiValuedAttribute{Value: "a@home.example", Primary: true}
	tests := []struct {
		name       string
		u          *scimv1.ScimUser
		opts       Options
		wantName   string
		wantReason string
	}{
		{"userName", user("alice", ""), Options{}, "alice", ""},
		{"prefix", user("alice", ""), Options{SubjectPrefix: "oidc:"}, "oidc:alice", ""},
		{"primary email", user("alice", "", work, home), Options{SubjectAttribute: SubjectEmail}, "a@home.example", ""},
		{"first email", user("alice", "", work), Options{SubjectAttribute: SubjectEmail}, "a@work.example", ""},
		{"no email", user("alice", ""), Options{SubjectAttribute: SubjectEmail}, "", scimv1.SubjectNameMissingReason},
		{"externalId", user("alice", "00u1"), Options{SubjectAttribute: SubjectExternalID}, "00u1", ""},
		{"no externalId", user("alice", ""), Options{SubjectAttribute: SubjectExternalID}, "", scimv1.SubjectNameMissingReason},
		{"system:masters", user("system:masters", ""), Options{}, "", scimv1.ReservedSubjectNameReason},
		{"system prefix any case", user("SYSTEM:anonymous", ""), Options{}, "", scimv1.ReservedSubjectNameReason},
		{"service account impersonation", user("system:serviceaccount:kube-system:default", ""), Options{}, "", scimv1.ReservedSubjectNameReason},
		{"reserved even behind a prefix", user("system:masters", ""), Options{SubjectPrefix: "oidc:"}, "", scimv1.ReservedSubjectNameReason},
		{"reserved prefix", user("alice", ""), Options{SubjectPrefix: "system:"}, "", scimv1.ReservedSubjectNameReason},
		{"blank", user("  ", ""), Options{}, "", scimv1.SubjectNameMissingReason},
		{"padded", user(" alice", ""), Options{}, "", scimv1.ReservedSubjectNameReason},
		{"wildcard", user("*", ""), Options{}, "", scimv1.ReservedSubjectNameReason},
		{"control character", user("al\x00ice", ""), Options{}, "", scimv1.ReservedSubjectNameReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := nameSubject(tt.u, tt.opts.withDefaults())
			if v.name != tt.wantName || v.reason != tt.wantReason {
				t.Errorf("got %q/%q, want %q/%q", v.name, v.reason, tt.wantName, tt.wantReason)
			}
			if v.reason != "" && strings.Contains(v.message, tt.u.Spec.UserName) && tt.u.Spec.UserName != "" && strings.TrimSpace(tt.u.Spec.UserName) != "" {
				t.Errorf("refusal message repeats the refused value: %q", v.message)
			}
		})
	}
}

func TestUserSubjects(t *testing.T) {
	u := &scimv1.ScimUser{Spec: scimv1.ScimUserSpec{UserName: "alice", Active: ptr.To(true)}}
	u.Name = "alice-123"
	opts := Options{ServiceAccounts: true, SubjectPrefix: "oidc:"}.withDefaults()
	got := userSubjects(u, opts)
	want := []rbacv1.Subject{
		{Kind: "User", APIGroup: rbacv1.GroupName, Name: "oidc:alice"},
		{Kind: "ServiceAccount", Namespace: "kubescim-users", Name: "alice-123"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	u.Spec.Active = ptr.To(false)
	if s := userSubjects(u, opts); len(s) != 0 {
		t.Errorf("inactive user has subjects %+v", s)
	}
	u.Spec.Active = nil
	if s := userSubjects(u, opts); len(s) != 0 {
		t.Errorf("user with active unassigned has subjects %+v", s)
	}
}

func subjectsNamed(n int) []rbacv1.Subject {
	s := make([]rbacv1.Subject, n)
	for i := range s {
		s[i] = rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("user-%05d", i)}
	}
	return s
}

func TestShardSubjects(t *testing.T) {
	for _, n := range []int{0, 1, 999, 1000, 1001, 20000, 20001} {
		subjects := subjectsNamed(n)
		shards := shardSubjects(subjects, 1000)
		seen := map[string]bool{}
		for i, shard := range shards {
			if len(shard) > 1000 {
				t.Fatalf("n=%d: shard %d has %d subjects", n, i, len(shard))
			}
			for j := 1; j < len(shard); j++ {
				if !bySubjectKey(shard).Less(j-1, j) {
					t.Fatalf("n=%d: shard %d not sorted", n, i)
				}
			}
			for _, s := range shard {
				seen[s.Name] = true
			}
		}
		if len(seen) != n || len(shards) < 1 {
			t.Fatalf("n=%d: %d distinct subjects in %d shards", n, len(seen), len(shards))
		}
		if n <= 1000 && len(shards) != 1 {
			t.Errorf("n=%d: %d shards, want 1", n, len(shards))
		}
		// Deterministic regardless of input order.
		reversed := make([]rbacv1.Subject, n)
		for i := range subjects {
			reversed[n-1-i] = subjects[i]
		}
		if !reflect.DeepEqual(shards, shardSubjects(reversed, 1000)) {
			t.Errorf("n=%d: sharding depends on input order", n)
		}
	}
}

// Removing one subject must rewrite one shard, not every shard after it.
func TestShardSubjectsRemovalTouchesOneShard(t *testing.T) {
	subjects := subjectsNamed(20000)
	before := shardSubjects(subjects, 1000)
	after := shardSubjects(append(append([]rbacv1.Subject(nil), subjects[:7000]...), subjects[7001:]...), 1000)
	if len(before) != len(after) {
		t.Fatalf("shard count changed: %d -> %d", len(before), len(after))
	}
	changed := 0
	for i := range before {
		if !reflect.DeepEqual(before[i], after[i]) {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("%d shards changed, want 1", changed)
	}
}

func TestManagedBindingName(t *testing.T) {
	if got := managedBindingName("team-a", 0); got != "kubescim-team-a" {
		t.Errorf("shard 0: %s", got)
	}
	if got := managedBindingName("team-a", 3); got != "kubescim-team-a:3" {
		t.Errorf("shard 3: %s", got)
	}
	// "a-1" (shard 0) and "a" (shard 1) must not collide.
	if managedBindingName("a-1", 0) == managedBindingName("a", 1) {
		t.Error("shard names collide with binding names")
	}
	long := strings.Repeat("x", 253)
	a, b := managedBindingName(long, 1), managedBindingName(long, 2)
	if len(a) > 253 || len(b) > 253 || a == b {
		t.Errorf("long names: %d %d equal=%t", len(a), len(b), a == b)
	}
}

func TestInactiveMessage(t *testing.T) {
	deleting := metav1.Now()
	tests := []struct {
		name    string
		active  *bool
		deleted *metav1.Time
		want    string
		notWant string
	}{
		{"unassigned", nil, nil, "unassigned", "deactivated"},
		{"false", ptr.To(false), nil, "deactivated (active=false)", "unassigned"},
		{"deleting", ptr.To(true), &deleting, "being deleted", "deactivated"},
		{"unassigned while deleting", nil, &deleting, "being deleted", "unassigned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &scimv1.ScimUser{
				ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: tt.deleted},
				Spec:       scimv1.ScimUserSpec{Active: tt.active},
			}
			got := inactiveMessage(u)
			if !strings.Contains(got, tt.want) || strings.Contains(got, tt.notWant) || !strings.Contains(got, "granted nothing") {
				t.Errorf("inactiveMessage = %q; want it to contain %q and \"granted nothing\", not %q", got, tt.want, tt.notWant)
			}
		})
	}
	if inactiveMessage(&scimv1.ScimUser{}) == inactiveMessage(&scimv1.ScimUser{Spec: scimv1.ScimUserSpec{Active: ptr.To(false)}}) {
		t.Error("unassigned and active=false must read differently")
	}
}
