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
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Runs on the "sa" manager (ServiceAccounts enabled, no subject prefix).
func TestServiceAccountsFollowTheUser(t *testing.T) {
	ns := newNamespace(t, "sa-a", nil)
	g := newGroup(t, "sa", "sa-devs")
	b := newBinding(t, "sa", "sa-read", g, ns.Name)
	pam := newUser(t, "sa", "pam", g.Name)
	saKey := client.ObjectKey{Namespace: DefaultServiceAccountNamespace, Name: pam.Name}
	saSubject := "system:serviceaccount:" + DefaultServiceAccountNamespace + ":" + pam.Name

	var first corev1.ServiceAccount
	eventually(t, "ServiceAccount created", func() error { return k8s.Get(context.Background(), saKey, &first) })
	if first.Labels[scimv1.UserLabel] != pam.Name || first.Labels[scimv1.ManagedByLabel] != "kubescim" ||
		first.Annotations[scimv1.UserIDAnnotation] != string(pam.UID) || first.Annotations[scimv1.UserNameAnnotation] != "pam" {
		t.Errorf("ServiceAccount metadata: %v %v", first.Labels, first.Annotations)
	}
	if len(first.OwnerReferences) != 1 || first.OwnerReferences[0].UID != pam.UID || first.OwnerReferences[0].Kind != "ScimUser" {
		t.Errorf("ServiceAccount owner: %+v", first.OwnerReferences)
	}
	eventually(t, "User and ServiceAccount bound", expectSubjects(b.Name, ns.Name, "pam", pam.Name))
	eventually(t, "the ServiceAccount may read pods", expectAllowed(saSubject, "get", "pods", ns.Name, true))
	eventually(t, "ServiceAccountReady", expectCondition(pam, scimv1.ServiceAccountReadyCondition, metav1.ConditionTrue, ""))

	setActive(t, pam, false)
	eventually(t, "ServiceAccount deleted on deactivation", func() error {
		err := k8s.Get(context.Background(), saKey, &corev1.ServiceAccount{})
		if err == nil {
			return fmt.Errorf("still there")
		}
		return client.IgnoreNotFound(err)
	})
	eventually(t, "both subjects removed", expectSubjects(b.Name, ns.Name))

	setActive(t, pam, true)
	eventually(t, "ServiceAccount recreated with a new identity", func() error {
		var sa corev1.ServiceAccount
		if err := k8s.Get(context.Background(), saKey, &sa); err != nil {
			return err
		}
		if sa.UID == first.UID {
			return fmt.Errorf("same UID %s", sa.UID)
		}
		return nil
	})
	eventually(t, "bound again", expectSubjects(b.Name, ns.Name, "pam", pam.Name))

	// Deleting a managed ServiceAccount by hand is drift: it comes back.
	var current corev1.ServiceAccount
	if err := k8s.Get(context.Background(), saKey, &current); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(context.Background(), &current); err != nil {
		t.Fatal(err)
	}
	eventually(t, "hand-deleted ServiceAccount restored", func() error {
		var sa corev1.ServiceAccount
		if err := k8s.Get(context.Background(), saKey, &sa); err != nil {
			return err
		}
		if sa.UID == current.UID {
			return fmt.Errorf("not yet replaced")
		}
		return nil
	})

	if err := k8s.Delete(context.Background(), pam); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ServiceAccount deleted with the user", func() error {
		err := k8s.Get(context.Background(), saKey, &corev1.ServiceAccount{})
		if err == nil {
			return fmt.Errorf("still there")
		}
		return client.IgnoreNotFound(err)
	})
	eventually(t, "user deletion unbinds", expectSubjects(b.Name, ns.Name))
}

// Runs on the "restricted" manager: its identity has the generated manager ClusterRole and may
// bind only readerRole; its own allow-list also lists cluster-admin, so the API server decides.
func TestAPIServerRefusesEscalationForRestrictedIdentity(t *testing.T) {
	g := newGroup(t, "restricted", "restricted-devs")
	newUser(t, "restricted", "quinn", g.Name)
	clusterBinding := func(name, role string) *scimv1.ScimGroupBinding {
		b := &scimv1.ScimGroupBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: suiteLabels("restricted")},
			Spec: scimv1.ScimGroupBindingSpec{Group: g.Spec.DisplayName, Scope: scimv1.ScopeCluster,
				RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: role}},
		}
		mustCreate(t, b)
		return b
	}
	read := clusterBinding("restricted-read", readerRole)
	admin := clusterBinding("restricted-admin", "cluster-admin")

	eventually(t, "bindable role works", expectAllowed("quinn", "get", "pods", "default", true))
	eventually(t, "ready", expectCondition(read, scimv1.ReadyCondition, metav1.ConditionTrue, ""))
	eventually(t, "API server refusal reported", expectCondition(admin, scimv1.RoleBindableCondition, metav1.ConditionFalse, scimv1.RoleNotAllowedReason))
	if err := expectCondition(admin, scimv1.ReadyCondition, metav1.ConditionFalse, scimv1.RoleNotAllowedReason)(); err != nil {
		t.Error(err)
	}
	cond := admin.Status.Conditions
	for _, c := range cond {
		if c.Type == scimv1.RoleBindableCondition && !strings.Contains(c.Message, "forbidden") {
			t.Errorf("condition message does not carry the API server's refusal: %q", c.Message)
		}
	}
	err := k8s.Get(context.Background(), types.NamespacedName{Name: "kubescim-" + admin.Name}, &rbacv1.ClusterRoleBinding{})
	if client.IgnoreNotFound(err) != nil || err == nil {
		t.Errorf("ClusterRoleBinding for cluster-admin: %v", err)
	}
	consistently(t, "quinn never becomes cluster-admin", 500*time.Millisecond, expectAllowed("quinn", "delete", "nodes", "", false))
}
