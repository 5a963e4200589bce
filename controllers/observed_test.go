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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// observed reads obj and returns its status.observedGeneration, its generation and its Ready
// condition (nil when it has none).
func observed(g Gomega, obj client.Object) (observedGeneration, generation int64, ready *metav1.Condition) {
	g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
	switch o := obj.(type) {
	case *scimv1.ScimUser:
		return o.Status.ObservedGeneration, o.Generation, meta.FindStatusCondition(o.Status.Conditions, scimv1.ReadyCondition)
	case *scimv1.ScimGroup:
		return o.Status.ObservedGeneration, o.Generation, meta.FindStatusCondition(o.Status.Conditions, scimv1.ReadyCondition)
	case *scimv1.ScimGroupBinding:
		return o.Status.ObservedGeneration, o.Generation, meta.FindStatusCondition(o.Status.Conditions, scimv1.ReadyCondition)
	}
	panic("not a kubescim object")
}

// expectFailedPass waits until obj's Ready condition reports reason for its current generation,
// then checks that status.observedGeneration stays at want: a failed pass observes nothing.
func expectFailedPass(t *testing.T, obj client.Object, reason string, want int64) {
	t.Helper()
	g := NewWithT(t)
	g.Eventually(func(g Gomega) {
		_, gen, ready := observed(g, obj)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(reason))
		g.Expect(ready.ObservedGeneration).To(Equal(gen), "the condition reports the failed generation")
	}).WithTimeout(waitTimeout).Should(Succeed(), "%s: Ready=False %s", obj.GetName(), reason)
	g.Consistently(func(g Gomega) {
		og, _, _ := observed(g, obj)
		g.Expect(og).To(Equal(want))
	}).WithTimeout(time.Second).Should(Succeed(), "%s: observedGeneration after a failed pass", obj.GetName())
}

// expectObserved waits until status.observedGeneration is obj's current generation.
func expectObserved(t *testing.T, obj client.Object) int64 {
	t.Helper()
	var observedGen int64
	NewWithT(t).Eventually(func(g Gomega) {
		og, gen, ready := observed(g, obj)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(og).To(Equal(gen))
		observedGen = og
	}).WithTimeout(waitTimeout).Should(Succeed(), "%s: observedGeneration", obj.GetName())
	return observedGen
}

func TestObservedGenerationOnlyAfterASuccessfulPass(t *testing.T) {
	ns := newNamespace(t, "observed-a", nil)
	grp := newGroup(t, "", "observed-devs")
	newUser(t, "", "observed-otto", grp.Name)
	b := newBinding(t, "", "observed-devs-read", grp, ns.Name)

	t.Run("ScimGroupBinding", func(t *testing.T) {
		good := expectObserved(t, b)
		// A missing group: refused, nothing observed.
		update(t, b, func(b *scimv1.ScimGroupBinding) { b.Spec.Group = "observed nobody" })
		expectFailedPass(t, b, scimv1.GroupNotFoundReason, good)
		// A role outside the allow-list: refused with a terminal error, nothing observed.
		update(t, b, func(b *scimv1.ScimGroupBinding) {
			b.Spec.Group = grp.Spec.DisplayName
			b.Spec.RoleRef.Name = "cluster-admin"
		})
		expectFailedPass(t, b, scimv1.RoleNotAllowedReason, good)
		// Fixed: the new generation is observed.
		update(t, b, func(b *scimv1.ScimGroupBinding) { b.Spec.RoleRef.Name = readerRole })
		NewWithT(t).Expect(expectObserved(t, b)).To(BeNumerically(">", good))
		NewWithT(t).Eventually(expectSubjects(b.Name, ns.Name, "oidc:observed-otto")).WithTimeout(waitTimeout).Should(Succeed())
	})

	t.Run("ScimGroup", func(t *testing.T) {
		orphan := newGroup(t, "", "observed-orphan", "observed-no-such-parent")
		expectFailedPass(t, orphan, scimv1.GroupNotFoundReason, 0)
		update(t, orphan, func(g *scimv1.ScimGroup) { g.Spec.MemberOf = nil })
		expectObserved(t, orphan)
	})

	t.Run("ScimUser", func(t *testing.T) {
		ok := newUser(t, "", "observed-ursula", grp.Name)
		expectObserved(t, ok)
		reserved := newUser(t, "", "system:observed", grp.Name)
		expectFailedPass(t, reserved, scimv1.ReservedSubjectNameReason, 0)
	})
}
