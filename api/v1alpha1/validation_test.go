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

package v1alpha1_test

import (
	"fmt"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
)

func TestValidObjectsAreAcceptedWithDefaults(t *testing.T) {
	c := ctx(t)
	u := &scimv1alpha1.ScimUser{
		ObjectMeta: metav1.ObjectMeta{Name: scimv1alpha1.ObjectNameFor("Valid.User@example.com")},
		Spec: scimv1alpha1.ScimUserSpec{
			UserName: "Valid.User@example.com",
			Emails:   []scimv1alpha1.MultiValuedAttribute{{Value: "valid.user@example.com", Type: "work", Primary: true}},
		},
	}
	if err := k8sClient.Create(c, u); err != nil {
		t.Fatalf("creating a valid ScimUser: %v", err)
	}
	// active has no default: unassigned, it grants nothing.
	if u.Spec.Active != nil || u.Spec.IsActive() {
		t.Errorf("spec.active should stay unassigned and inactive, got %v", u.Spec.Active)
	}
	b := &scimv1alpha1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "valid-binding"},
		Spec: scimv1alpha1.ScimGroupBindingSpec{
			Group:      "developers",
			RoleRef:    scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "edit"},
			Namespaces: []string{"team-a"},
		},
	}
	if err := k8sClient.Create(c, b); err != nil {
		t.Fatalf("creating a valid ScimGroupBinding: %v", err)
	}
	if b.Spec.Scope != scimv1alpha1.ScopeNamespaced || b.Spec.RoleRef.APIGroup != rbacv1.GroupName {
		t.Errorf("defaults not applied: scope=%q apiGroup=%q", b.Spec.Scope, b.Spec.RoleRef.APIGroup)
	}
}

func TestInvalidObjectsAreRefusedWithReadableMessages(t *testing.T) {
	long := strings.Repeat("x", 300)
	cases := []struct {
		name    string
		obj     client.Object
		message string
	}{
		{"user without userName", &scimv1alpha1.ScimUser{
			ObjectMeta: metav1.ObjectMeta{Name: "no-username"},
		}, "spec.userName"},
		{"userName too long", &scimv1alpha1.ScimUser{
			ObjectMeta: metav1.ObjectMeta{Name: "long-username"},
			Spec:       scimv1alpha1.ScimUserSpec{UserName: long},
		}, "spec.userName: Too long"},
		{"userName with a control character", &scimv1alpha1.ScimUser{
			ObjectMeta: metav1.ObjectMeta{Name: "ctl-username"},
			Spec:       scimv1alpha1.ScimUserSpec{UserName: "bad\nname"},
		}, "spec.userName"},
		{"two primary emails", &scimv1alpha1.ScimUser{
			ObjectMeta: metav1.ObjectMeta{Name: "two-primaries"},
			Spec: scimv1alpha1.ScimUserSpec{UserName: "two", Emails: []scimv1alpha1.MultiValuedAttribute{
				{Value: "a@example.com", Primary: true}, {Value: "b@example.com", Primary: true},
			}},
		}, "at most one email may be primary"},
		{"group without displayName", &scimv1alpha1.ScimGroup{
			ObjectMeta: metav1.ObjectMeta{Name: "no-display-name"},
		}, "spec.displayName"},
		{"binding with an unknown role kind", &scimv1alpha1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "bad-kind"},
			Spec: scimv1alpha1.ScimGroupBindingSpec{Group: "g", Namespaces: []string{"a"},
				RoleRef: scimv1alpha1.RoleRef{Kind: "Deployment", Name: "edit"}},
		}, `spec.roleRef.kind: Unsupported value: "Deployment"`},
		{"namespaced binding without namespaces", &scimv1alpha1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "no-namespaces"},
			Spec: scimv1alpha1.ScimGroupBindingSpec{Group: "g",
				RoleRef: scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "edit"}},
		}, "scope Namespaced requires namespaces, namespaceSelector or namespaceTemplate"},
		{"binding with both group and groupPattern", &scimv1alpha1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "group-and-pattern"},
			Spec: scimv1alpha1.ScimGroupBindingSpec{Group: "g", GroupPattern: "team-.*", Namespaces: []string{"a"},
				RoleRef: scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "edit"}},
		}, "exactly one of group and groupPattern is required"},
		{"binding with neither group nor groupPattern", &scimv1alpha1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "no-group"},
			Spec: scimv1alpha1.ScimGroupBindingSpec{Namespaces: []string{"a"},
				RoleRef: scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "edit"}},
		}, "exactly one of group and groupPattern is required"},
		{"namespaceTemplate without groupPattern", &scimv1alpha1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "template-without-pattern"},
			Spec: scimv1alpha1.ScimGroupBindingSpec{Group: "g", NamespaceTemplate: "{team}",
				RoleRef: scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "edit"}},
		}, "namespaceTemplate requires groupPattern"},
		{"namespaceTemplate with namespaces", &scimv1alpha1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "template-and-namespaces"},
			Spec: scimv1alpha1.ScimGroupBindingSpec{GroupPattern: "team-(?P<team>.+)", NamespaceTemplate: "{team}",
				Namespaces: []string{"a"}, RoleRef: scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "edit"}},
		}, "namespaceTemplate cannot be combined with namespaces, namespaceSelector or scope Cluster"},
		{"namespaceTemplate with characters no namespace has", &scimv1alpha1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "template-uppercase"},
			Spec: scimv1alpha1.ScimGroupBindingSpec{GroupPattern: "team-(?P<team>.+)", NamespaceTemplate: "Team_{team}",
				RoleRef: scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "edit"}},
		}, "spec.namespaceTemplate"},
		{"cluster binding with namespaces", &scimv1alpha1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "cluster-with-namespaces"},
			Spec: scimv1alpha1.ScimGroupBindingSpec{Group: "g", Scope: scimv1alpha1.ScopeCluster,
				Namespaces: []string{"a"}, RoleRef: scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "view"}},
		}, "scope Cluster cannot be combined with namespaces or namespaceSelector"},
		{"cluster binding to a Role", &scimv1alpha1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "cluster-role-kind"},
			Spec: scimv1alpha1.ScimGroupBindingSpec{Group: "g", Scope: scimv1alpha1.ScopeCluster,
				RoleRef: scimv1alpha1.RoleRef{Kind: "Role", Name: "deployer"}},
		}, "scope Cluster requires roleRef.kind ClusterRole"},
		{"binding with an invalid namespace name", &scimv1alpha1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "bad-namespace"},
			Spec: scimv1alpha1.ScimGroupBindingSpec{Group: "g", Namespaces: []string{"Not_A_Namespace"},
				RoleRef: scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "view"}},
		}, "spec.namespaces[0]"},
		{"binding with an unknown scope", &scimv1alpha1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "bad-scope"},
			Spec: scimv1alpha1.ScimGroupBindingSpec{Group: "g", Scope: "Galaxy", Namespaces: []string{"a"},
				RoleRef: scimv1alpha1.RoleRef{Kind: "ClusterRole", Name: "view"}},
		}, `spec.scope: Unsupported value: "Galaxy"`},
		{"user in too many groups", &scimv1alpha1.ScimUser{
			ObjectMeta: metav1.ObjectMeta{Name: "too-many-groups"},
			Spec:       scimv1alpha1.ScimUserSpec{UserName: "many", MemberOf: manyNames(4097)},
		}, "spec.memberOf: Too many"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := k8sClient.Create(ctx(t), tc.obj)
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not mention %q", err.Error(), tc.message)
			}
		})
	}
}

func manyNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("group-%d", i)
	}
	return names
}
