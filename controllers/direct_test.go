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
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// The "direct" partition has a manager (a cache) but no controllers: tests build the
// reconcilers themselves, call their reconcile step on an object and assert the status it
// leaves in memory, one branch at a time, against the real API server.

// startDirectManager starts a manager of the "direct" partition that runs no controllers, and
// stops it when the test ends.
func startDirectManager(t *testing.T) ctrl.Manager {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := newPartitionManager(ctx, testCfg, "direct", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := setupControllerIndexes(ctx, mgr.GetFieldIndexer(), mainOptions.withDefaults()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Logf("direct manager: %v", err)
		}
	})
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("direct manager's cache did not sync")
	}
	return mgr
}

// bindingReconciler builds a ScimGroupBindingReconciler on mgr's cache that writes through writer.
func bindingReconciler(mgr ctrl.Manager, writer client.Client, opts Options) *ScimGroupBindingReconciler {
	opts = opts.withDefaults()
	reader := mgr.GetClient()
	return &ScimGroupBindingReconciler{reader: reader, live: mgr.GetAPIReader(), writer: writer, opts: opts,
		members: membership{reader: reader}, audit: newAuditor(ctrl.Log.WithName("audit"), reader, opts),
		recorder: mgr.GetEventRecorder("kubescim-direct"), tallies: newTallies()}
}

func TestBindingReconcileBranches(t *testing.T) {
	mgr := startDirectManager(t)
	restricted, err := client.New(restrictedTestCfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t, "direct-a", nil)
	grp := newGroup(t, "direct", "direct-devs")
	newUser(t, "direct", "direct-dora", grp.Name)
	// The cache must hold the group and its member before a pass can see them.
	NewWithT(t).Eventually(func(g Gomega) {
		var u scimv1.ScimUser
		g.Expect(mgr.GetClient().Get(context.Background(), client.ObjectKey{Name: scimv1.ObjectNameFor("direct-dora")}, &u)).To(Succeed())
	}).WithTimeout(waitTimeout).Should(Succeed())

	tests := []struct {
		name      string
		spec      scimv1.ScimGroupBindingSpec
		restrict  bool   // write as the restricted identity, whose escalation the API server refuses
		condition string // the condition set False beside Ready; "" for none
		reason    string // Ready's reason
		terminal  bool   // the pass returns a reconcile.TerminalError
		failed    bool   // the pass returns an error
	}{
		{name: "direct-ok", spec: scimv1.ScimGroupBindingSpec{Group: grp.Spec.DisplayName, Namespaces: []string{ns.Name},
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole}}, reason: scimv1.ReconciledReason},
		{name: "direct-role", spec: scimv1.ScimGroupBindingSpec{Group: grp.Spec.DisplayName, Namespaces: []string{ns.Name},
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"}},
			condition: scimv1.RoleBindableCondition, reason: scimv1.RoleNotAllowedReason, terminal: true, failed: true},
		{name: "direct-nogroup", spec: scimv1.ScimGroupBindingSpec{Group: "direct nobody", Namespaces: []string{ns.Name},
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole}},
			condition: scimv1.GroupFoundCondition, reason: scimv1.GroupNotFoundReason},
		{name: "direct-selector", spec: scimv1.ScimGroupBindingSpec{Group: grp.Spec.DisplayName, RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole},
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: "Resembles"}}}},
			reason: scimv1.InvalidNamespaceSelectorReason, terminal: true, failed: true},
		{name: "direct-forbidden", spec: scimv1.ScimGroupBindingSpec{Group: grp.Spec.DisplayName, Scope: scimv1.ScopeCluster,
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"}}, restrict: true,
			condition: scimv1.RoleBindableCondition, reason: scimv1.RoleNotAllowedReason, failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			opts, writer := mainOptions, mgr.GetClient()
			if tt.restrict {
				opts, writer = restrictedOptions, restricted
			}
			r := bindingReconciler(mgr, writer, opts)
			// The object exists (Events need it) but no controller reconciles it: the test does.
			b := &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: tt.name, Labels: suiteLabels("direct")}, Spec: tt.spec}
			if tt.spec.NamespaceSelector == nil {
				mustCreate(t, b)
			} else {
				b.UID, b.Generation = "direct-selector-uid", 1 // an invalid selector is never stored
			}

			err := r.reconcile(context.Background(), b)

			g.Expect(err != nil).To(Equal(tt.failed), "error %v", err)
			g.Expect(errors.Is(err, reconcile.TerminalError(nil))).To(Equal(tt.terminal), "terminal error %v", err)
			ready := meta.FindStatusCondition(b.Status.Conditions, scimv1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Reason).To(Equal(tt.reason))
			g.Expect(ready.ObservedGeneration).To(Equal(b.Generation))
			if tt.reason == scimv1.ReconciledReason {
				g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
				g.Expect(b.Status.ObservedGeneration).To(Equal(b.Generation))
				g.Expect(b.Status.BoundNamespaces).To(Equal([]string{ns.Name}))
				g.Expect(b.Status.Subjects).To(BeNumerically("==", 1))
				g.Expect(expectSubjects(b.Name, ns.Name, "oidc:direct-dora")()).To(Succeed())
				return
			}
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(b.Status.ObservedGeneration).To(BeZero(), "a refused pass observes nothing")
			g.Expect(b.Status.BoundNamespaces).To(BeEmpty())
			g.Expect(b.Status.Subjects).To(BeZero())
			if tt.condition != "" {
				c := meta.FindStatusCondition(b.Status.Conditions, tt.condition)
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(c.Reason).To(Equal(tt.reason))
			}
			rbs, err := managedRoleBindings(b.Name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(rbs).To(BeEmpty(), "a refused binding grants nothing")
		})
	}
}

func TestUserReconcileBranches(t *testing.T) {
	mgr := startDirectManager(t)
	reader := mgr.GetClient()
	r := &ScimUserReconciler{reader: reader, live: mgr.GetAPIReader(), writer: reader, opts: mainOptions.withDefaults(),
		members: membership{reader: reader}, recorder: mgr.GetEventRecorder("kubescim-direct")}
	tests := []struct {
		name     string
		userName string
		active   *bool
		reason   string
		message  string
		observed bool
	}{
		{"active", "direct-ada", ptr.To(true), scimv1.ReconciledReason, "0 grants", true},
		{"deactivated", "direct-dan", ptr.To(false), scimv1.InactiveReason, "deactivated (active=false)", true},
		{"unassigned", "direct-una", nil, scimv1.InactiveReason, "unassigned", true},
		{"reserved name", "system:direct", ptr.To(true), scimv1.ReservedSubjectNameReason, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			u := &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: scimv1.ObjectNameFor(tt.userName), Labels: suiteLabels("direct")},
				Spec: scimv1.ScimUserSpec{UserName: tt.userName, Active: tt.active}}
			mustCreate(t, u)

			g.Expect(r.reconcile(context.Background(), u, u.DeepCopy())).To(Succeed())

			ready := meta.FindStatusCondition(u.Status.Conditions, scimv1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Reason).To(Equal(tt.reason))
			g.Expect(ready.Message).To(ContainSubstring(tt.message))
			g.Expect(ready.Status == metav1.ConditionTrue).To(Equal(tt.reason == scimv1.ReconciledReason))
			g.Expect(u.Status.ObservedGeneration == u.Generation).To(Equal(tt.observed))
			g.Expect(u.Status.Access).To(BeEmpty())
		})
	}
}

func TestGroupReconcileBranches(t *testing.T) {
	mgr := startDirectManager(t)
	reader := mgr.GetClient()
	r := &ScimGroupReconciler{reader: reader, writer: reader, members: membership{reader: reader}, recorder: mgr.GetEventRecorder("kubescim-direct")}
	ok := newGroup(t, "direct", "direct-team")
	orphan := newGroup(t, "direct", "direct-orphan", "direct-no-such-parent")
	loopA := newGroup(t, "direct", "direct-loop-a", "direct-loop-b")
	newGroup(t, "direct", "direct-loop-b", "direct-loop-a")
	newUser(t, "direct", "direct-gus", ok.Name)
	NewWithT(t).Eventually(func(g Gomega) {
		for _, name := range []string{ok.Name, orphan.Name, loopA.Name, "direct-loop-b"} {
			g.Expect(reader.Get(context.Background(), client.ObjectKey{Name: name}, &scimv1.ScimGroup{})).To(Succeed())
		}
		var u scimv1.ScimUser
		g.Expect(reader.Get(context.Background(), client.ObjectKey{Name: scimv1.ObjectNameFor("direct-gus")}, &u)).To(Succeed())
	}).WithTimeout(waitTimeout).Should(Succeed(), "the direct cache holds the groups")

	tests := []struct {
		group  *scimv1.ScimGroup
		reason string
		users  int32
	}{
		{ok, scimv1.ReconciledReason, 1},
		{orphan, scimv1.GroupNotFoundReason, 0},
		{loopA, scimv1.CycleDetectedReason, 0},
	}
	for _, tt := range tests {
		t.Run(tt.group.Name, func(t *testing.T) {
			g := NewWithT(t)
			grp := tt.group.DeepCopy()
			g.Expect(r.reconcile(context.Background(), grp, grp.DeepCopy())).To(Succeed())
			for _, typ := range []string{scimv1.ReadyCondition, scimv1.MembersResolvedCondition} {
				c := meta.FindStatusCondition(grp.Status.Conditions, typ)
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Reason).To(Equal(tt.reason), typ)
				g.Expect(c.Status == metav1.ConditionTrue).To(Equal(tt.reason == scimv1.ReconciledReason), typ)
			}
			g.Expect(grp.Status.ObservedGeneration == grp.Generation).To(Equal(tt.reason == scimv1.ReconciledReason))
			g.Expect(grp.Status.UserMembers).To(Equal(tt.users))
		})
	}
}
