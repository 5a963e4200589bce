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
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// TestCleanupDeletesExactlyWhatKubescimMade runs `kubescim cleanup`'s deletion against the
// API server: every RoleBinding, ClusterRoleBinding and per-user ServiceAccount kubescim made
// goes; what others made stays, also where it carries one of kubescim's labels but not both.
func TestCleanupDeletesExactlyWhatKubescimMade(t *testing.T) {
	ctx := t.Context()
	const users, other = "cleanup-users", "cleanup-other"
	for _, ns := range []string{users, other} {
		if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	made := map[string]string{scimv1alpha1.ManagedByLabel: scimv1alpha1.ManagedByValue, scimv1alpha1.BindingLabel: "devs"}
	madeSA := map[string]string{scimv1alpha1.ManagedByLabel: scimv1alpha1.ManagedByValue, scimv1alpha1.UserLabel: "alice"}
	onlyManagedBy := map[string]string{scimv1alpha1.ManagedByLabel: scimv1alpha1.ManagedByValue}
	roleRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}
	meta := func(ns, name string, labels map[string]string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}
	}
	gone := []client.Object{
		&rbacv1.RoleBinding{ObjectMeta: meta(other, "kubescim-devs", made), RoleRef: roleRef},
		&rbacv1.ClusterRoleBinding{ObjectMeta: meta("", "kubescim-devs-cluster", made), RoleRef: roleRef},
		&corev1.ServiceAccount{ObjectMeta: meta(users, "alice", madeSA)},
	}
	kept := []client.Object{
		&rbacv1.RoleBinding{ObjectMeta: meta(other, "admins-own", nil), RoleRef: roleRef},
		&rbacv1.RoleBinding{ObjectMeta: meta(other, "labelled-by-hand", onlyManagedBy), RoleRef: roleRef},
		&rbacv1.ClusterRoleBinding{ObjectMeta: meta("", "cleanup-test-admins", nil), RoleRef: roleRef},
		&corev1.ServiceAccount{ObjectMeta: meta(other, "alice", madeSA)}, // not in the ServiceAccount namespace
		&corev1.ServiceAccount{ObjectMeta: meta(users, "bob", nil)},
	}
	for _, obj := range append(append([]client.Object{}, gone...), kept...) {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, obj := range kept {
			_ = k8s.Delete(ctx, obj)
		}
	})

	if err := cleanup(ctx, k8s, &cleanupOptions{serviceAccountNamespace: users}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range gone {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s is still there after cleanup (%v)", obj, client.ObjectKeyFromObject(obj), err)
		}
	}
	for _, obj := range kept {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Errorf("cleanup deleted %T %s, which kubescim did not make: %v", obj, client.ObjectKeyFromObject(obj), err)
		}
	}

	// Without a ServiceAccount namespace (it went with the release) none are touched.
	sa := &corev1.ServiceAccount{ObjectMeta: meta(users, "carol", madeSA)}
	if err := k8s.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	if err := cleanup(ctx, k8s, &cleanupOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(sa), sa); err != nil {
		t.Errorf("cleanup without --service-account-namespace deleted ServiceAccount %s: %v", sa.Name, err)
	}
}
