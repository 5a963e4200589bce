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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// appliedBy reports whether kubescim holds fields of o through server-side apply.
func appliedBy(o client.Object) bool {
	for _, f := range o.GetManagedFields() {
		if f.Manager == string(fieldOwner) && f.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

// getRoleBinding reads the one managed RoleBinding of binding in ns.
func getRoleBinding(g Gomega, binding, ns string) *rbacv1.RoleBinding {
	rb := &rbacv1.RoleBinding{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: managedBindingName(binding, 0)}, rb)).To(Succeed())
	return rb
}

func TestOthersLabelsSurviveDriftRepair(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "ssa-a", nil)
	grp := newGroup(t, "", "ssa-devs")
	liz := newUser(t, "", "liz", grp.Name)
	b := newBinding(t, "", "ssa-devs-read", grp, ns.Name)
	g.Eventually(expectSubjects(b.Name, ns.Name, "oidc:liz")).WithTimeout(waitTimeout).Should(Succeed())

	// Another actor labels and annotates the managed RoleBinding; that alone is no drift.
	rb := getRoleBinding(g, b.Name, ns.Name)
	update(t, rb, func(rb *rbacv1.RoleBinding) {
		rb.Labels["team.example.com/owner"] = "platform"
		rb.Annotations = map[string]string{"team.example.com/ticket": "T-1"}
	})
	// Drift in the subjects is repaired by an apply, and the other actor's metadata stays.
	update(t, rb, func(rb *rbacv1.RoleBinding) {
		rb.Subjects = append(rb.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory"})
	})
	g.Eventually(expectSubjects(b.Name, ns.Name, "oidc:liz")).WithTimeout(waitTimeout).Should(Succeed())
	g.Eventually(func(g Gomega) {
		rb := getRoleBinding(g, b.Name, ns.Name)
		g.Expect(appliedBy(rb)).To(BeTrue(), "kubescim writes by server-side apply: %+v", rb.ManagedFields)
		g.Expect(rb.Labels).To(HaveKeyWithValue("team.example.com/owner", "platform"))
		g.Expect(rb.Labels).To(HaveKeyWithValue(scimv1.ManagedByLabel, scimv1.ManagedByValue))
		g.Expect(rb.Annotations).To(HaveKeyWithValue("team.example.com/ticket", "T-1"))
	}).WithTimeout(waitTimeout).Should(Succeed())

	// An emptied shard is emptied also where someone else wrote the subjects last.
	setActive(t, liz, false)
	g.Eventually(expectSubjects(b.Name, ns.Name)).WithTimeout(waitTimeout).Should(Succeed())
	rb = getRoleBinding(g, b.Name, ns.Name)
	update(t, rb, func(rb *rbacv1.RoleBinding) {
		rb.Subjects = []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory"}}
	})
	g.Eventually(expectSubjects(b.Name, ns.Name)).WithTimeout(waitTimeout).Should(Succeed(), "hand-added subject of an empty shard removed")
	g.Expect(getRoleBinding(g, b.Name, ns.Name).Labels).To(HaveKeyWithValue("team.example.com/owner", "platform"))
}

func TestSameNamedUnlabelledRoleBindingIsAdopted(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "ssa-adopt", nil)
	grp := newGroup(t, "", "ssa-adopt-devs")
	newUser(t, "", "lou", grp.Name)
	// Someone made a RoleBinding under kubescim's name, without kubescim's label, so the
	// controllers' label-filtered cache cannot see it.
	foreign := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: managedBindingName("ssa-adopt-read", 0), Namespace: ns.Name,
			Labels: map[string]string{"team.example.com/owner": "someone"}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: readerRole},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory"}},
	}
	mustCreate(t, foreign)
	b := newBinding(t, "", "ssa-adopt-read", grp, ns.Name)
	g.Eventually(expectSubjects(b.Name, ns.Name, "oidc:lou")).WithTimeout(waitTimeout).Should(Succeed())
	rb := getRoleBinding(g, b.Name, ns.Name)
	g.Expect(rb.UID).To(Equal(foreign.UID), "adopted in place, as before")
	g.Expect(rb.Labels).To(HaveKeyWithValue("team.example.com/owner", "someone"))
	g.Expect(hasOwnerRef(rb, metav1.OwnerReference{UID: b.UID})).To(BeTrue(), "owner %+v", rb.OwnerReferences)
}

// Runs on the "sa" manager.
func TestSameNamedUnlabelledServiceAccountIsLeftAlone(t *testing.T) {
	g := NewWithT(t)
	name := scimv1.ObjectNameFor("sal")
	foreign := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: DefaultServiceAccountNamespace,
		Labels: map[string]string{"team.example.com/owner": "someone"}}}
	mustCreate(t, foreign)
	sal := newUser(t, "sa", "sal")
	g.Eventually(expectCondition(sal, scimv1.ServiceAccountReadyCondition, metav1.ConditionFalse, scimv1.ApplyFailedReason)).
		WithTimeout(waitTimeout).Should(Succeed())
	g.Consistently(func(g Gomega) {
		var sa corev1.ServiceAccount
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(foreign), &sa)).To(Succeed())
		g.Expect(sa.UID).To(Equal(foreign.UID))
		g.Expect(sa.Labels).NotTo(HaveKey(scimv1.ManagedByLabel))
		g.Expect(sa.OwnerReferences).To(BeEmpty())
		g.Expect(appliedBy(&sa)).To(BeFalse())
	}).WithTimeout(time.Second).Should(Succeed(), "someone else's ServiceAccount is not taken over")

	// Once it is gone, kubescim makes its own, and labels others add to it survive an apply.
	g.Expect(k8s.Delete(context.Background(), foreign)).To(Succeed())
	var sa corev1.ServiceAccount
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(foreign), &sa)).To(Succeed())
		g.Expect(sa.Labels).To(HaveKeyWithValue(scimv1.ManagedByLabel, scimv1.ManagedByValue))
	}).WithTimeout(waitTimeout).Should(Succeed())
	g.Eventually(expectCondition(sal, scimv1.ServiceAccountReadyCondition, metav1.ConditionTrue, "")).WithTimeout(waitTimeout).Should(Succeed())
	update(t, &sa, func(sa *corev1.ServiceAccount) {
		sa.Labels["team.example.com/owner"] = "platform"
		sa.Annotations[scimv1.UserNameAnnotation] = "drift"
	})
	g.Eventually(func(g Gomega) {
		var cur corev1.ServiceAccount
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(foreign), &cur)).To(Succeed())
		g.Expect(cur.Annotations).To(HaveKeyWithValue(scimv1.UserNameAnnotation, "sal"), "drift repaired")
		g.Expect(cur.Labels).To(HaveKeyWithValue("team.example.com/owner", "platform"))
		g.Expect(appliedBy(&cur)).To(BeTrue())
		g.Expect(ptr.Deref(cur.OwnerReferences[0].Controller, false)).To(BeTrue())
	}).WithTimeout(waitTimeout).Should(Succeed())
}
