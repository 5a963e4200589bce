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

package authz

import (
	"context"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
)

const testPrefix = "oidc:"

func scimUser(name, userName string, active *bool) *scimv1.ScimUser {
	return &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: scimv1.ScimUserSpec{UserName: userName, Active: active}}
}

func managedRoleBinding(ns string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kubescim-b",
			Labels: map[string]string{scimv1.ManagedByLabel: scimv1.ManagedByValue}},
		Subjects: subjects,
	}
}

func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func saSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: controllers.DefaultServiceAccountNamespace, Name: name}
}

// testAuthorizer answers from users (through a client with the subject index) and from the
// given RoleBindings.
func testAuthorizer(t *testing.T, users []client.Object, bindings ...any) *authorizer {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := scimv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(users...).
		WithIndex(&scimv1.ScimUser{}, controllers.IndexSubjectName, func(o client.Object) []string {
			return []string{testPrefix + o.(*scimv1.ScimUser).Spec.UserName}
		}).Build()
	bound := newBoundSubjects()
	bound.syncs = []toolscache.InformerSynced{func() bool { return true }}
	for _, b := range bindings {
		bound.add(b, 1)
	}
	return &authorizer{users: reader, bound: bound, opts: controllers.Options{
		SubjectPrefix: testPrefix, ServiceAccounts: true,
		ServiceAccountNamespace: controllers.DefaultServiceAccountNamespace,
	}}
}

func TestDecide(t *testing.T) {
	deleting := scimUser("carol", "carol@example.com", ptr.To(true))
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	deleting.Finalizers = []string{"test"}
	users := []client.Object{
		scimUser("alice", "alice@example.com", ptr.To(true)),
		scimUser("bob", "bob@example.com", ptr.To(false)),
		scimUser("nil-active", "nobody@example.com", nil),
		deleting,
		// Two users with one subject name: one active one keeps the subject's access.
		scimUser("dup-a", "dup@example.com", ptr.To(false)),
		scimUser("dup-b", "dup@example.com", ptr.To(true)),
	}
	unmanaged := managedRoleBinding("team-b", userSubject("mallory"))
	unmanaged.Labels = nil
	a := testAuthorizer(t, users,
		managedRoleBinding("team-a", userSubject(testPrefix+"gone@example.com"), saSubject("gone"),
			userSubject("system:admin"), userSubject(testPrefix+"alice@example.com")),
		unmanaged,
		// A subject twice and removed once is still bound.
		managedRoleBinding("team-c", userSubject(testPrefix+"twice")),
		managedRoleBinding("team-d", userSubject(testPrefix+"twice")),
	)
	a.bound.add(managedRoleBinding("team-d", userSubject(testPrefix+"twice")), -1)
	a.bound.add(managedRoleBinding("team-e", userSubject(testPrefix+"removed")), 1)
	a.bound.add(toolscache.DeletedFinalStateUnknown{Obj: managedRoleBinding("team-e", userSubject(testPrefix+"removed"))}, -1)

	tests := []struct {
		user   string
		groups []string
		attrs  *authzv1.ResourceAttributes
		denied bool
		reason string
	}{
		// A deactivated user may still ask what it may do (kubectl auth can-i), nothing else.
		{user: testPrefix + "bob@example.com", attrs: &authzv1.ResourceAttributes{Verb: "create", Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}},
		{user: testPrefix + "bob@example.com", attrs: &authzv1.ResourceAttributes{Verb: "create", Group: "authentication.k8s.io", Resource: "selfsubjectreviews"}},
		{user: testPrefix + "bob@example.com", attrs: &authzv1.ResourceAttributes{Verb: "create", Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}, denied: true, reason: reasonInactive},
		{user: testPrefix + "bob@example.com", attrs: &authzv1.ResourceAttributes{Verb: "delete", Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}, denied: true, reason: reasonInactive},
		{user: testPrefix + "alice@example.com"},
		{user: testPrefix + "bob@example.com", denied: true, reason: reasonInactive},
		{user: testPrefix + "nobody@example.com", denied: true, reason: reasonInactive},
		{user: testPrefix + "carol@example.com", denied: true, reason: reasonInactive},
		{user: testPrefix + "dup@example.com"},
		{user: testPrefix + "gone@example.com", denied: true, reason: reasonDeleted},
		{user: testPrefix + "twice", denied: true, reason: reasonDeleted},
		{user: testPrefix + "removed"},
		// Without the prefix the name is not one kubescim binds, even if a user has it.
		{user: "bob@example.com"},
		{user: "mallory"},
		{user: testPrefix + "stranger"},
		{user: ""},
		// Groups never deny, system identities are never denied.
		{user: "admin", groups: []string{"system:masters", testPrefix + "bob@example.com"}},
		{user: "system:admin"},
		{user: "system:kube-controller-manager"},
		{user: "system:anonymous", groups: []string{"system:unauthenticated"}},
		// Per-user ServiceAccounts, in their namespace only.
		{user: "system:serviceaccount:kubescim-users:alice"},
		{user: "system:serviceaccount:kubescim-users:bob", denied: true, reason: reasonInactive},
		{user: "system:serviceaccount:kubescim-users:gone", denied: true, reason: reasonDeleted},
		{user: "system:serviceaccount:kubescim-users:stranger"},
		{user: "system:serviceaccount:kube-system:bob"},
		{user: "system:serviceaccount:kubescim-users"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			d := a.decide(context.Background(), &authzv1.SubjectAccessReviewSpec{User: tt.user, Groups: tt.groups, ResourceAttributes: tt.attrs})
			if d.err != nil {
				t.Fatalf("decide: %v", d.err)
			}
			if d.denied != tt.denied || d.reason != tt.reason {
				t.Errorf("decide(%q) = denied %v %q, want denied %v %q", tt.user, d.denied, d.reason, tt.denied, tt.reason)
			}
		})
	}
}

// TestDecideServiceAccountsOff: without per-user ServiceAccounts no ServiceAccount is ever denied.
func TestDecideServiceAccountsOff(t *testing.T) {
	a := testAuthorizer(t, []client.Object{scimUser("bob", "bob@example.com", ptr.To(false))}, managedRoleBinding("team-a", saSubject("gone")))
	a.opts.ServiceAccounts = false
	for _, user := range []string{"system:serviceaccount:kubescim-users:bob", "system:serviceaccount:kubescim-users:gone"} {
		if d := a.decide(context.Background(), &authzv1.SubjectAccessReviewSpec{User: user}); d.denied || d.err != nil {
			t.Errorf("decide(%q) = %+v, want no opinion", user, d)
		}
	}
}

// TestDecideNotSynced: before the cache has synced the webhook has no opinion and says why.
func TestDecideNotSynced(t *testing.T) {
	a := testAuthorizer(t, []client.Object{scimUser("bob", "bob@example.com", ptr.To(false))})
	a.bound.syncs = []toolscache.InformerSynced{func() bool { return false }}
	d := a.decide(context.Background(), &authzv1.SubjectAccessReviewSpec{User: testPrefix + "bob@example.com"})
	if d.denied || d.err == nil {
		t.Errorf("decide before sync = %+v, want no opinion with an evaluation error", d)
	}
}
