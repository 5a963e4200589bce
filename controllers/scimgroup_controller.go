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
	"fmt"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// ScimGroupReconciler maintains a ScimGroup's status (member counts, nesting problems, the
// bindings that use it) and its deletion finalizer: before a group goes away, its name is
// removed from every member's spec.memberOf, so a later group with the same name starts empty.
type ScimGroupReconciler struct {
	reader   client.Reader
	writer   client.Client
	members  membership
	recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimgroups,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimgroups/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimgroups/finalizers,verbs=update

// Reconcile converges one ScimGroup.
func (r *ScimGroupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	var g scimv1.ScimGroup
	if err := r.reader.Get(ctx, req.NamespacedName, &g); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("getting ScimGroup %s: %w", req.Name, err)
	}
	if !g.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, &g)
	}
	if !controllerutil.ContainsFinalizer(&g, scimv1.GroupFinalizer) {
		patched := g.DeepCopy()
		controllerutil.AddFinalizer(patched, scimv1.GroupFinalizer)
		if err := r.writer.Patch(ctx, patched, client.MergeFromWithOptions(&g, client.MergeFromWithOptimisticLock{}), fieldOwner); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(fmt.Errorf("adding finalizer to ScimGroup %s: %w", g.Name, err))
		}
		g = *patched
	}
	before := g.DeepCopy()
	defer func() {
		retErr = errors.Join(retErr, patchStatus(ctx, r.writer, before, &g, before.Status, g.Status))
	}()
	return ctrl.Result{}, r.reconcile(ctx, &g, before)
}

// reconcile fills g.Status in memory. Only a pass that resolved g's members sets
// status.observedGeneration: a cycle or a missing parent group leaves it, and the conditions
// say why.
func (r *ScimGroupReconciler) reconcile(ctx context.Context, g *scimv1.ScimGroup, before *scimv1.ScimGroup) error {
	gen := g.Generation
	st := &g.Status

	res, err := r.members.members(ctx, g.Name)
	if err != nil {
		return err
	}
	st.UserMembers, st.GroupMembers = int32(res.directUsers), int32(res.directGroups)
	st.EffectiveUsers = int32(len(res.users))

	bindings, err := bindingsSelecting(ctx, r.reader, g.Spec.DisplayName)
	if err != nil {
		return fmt.Errorf("ScimGroup %s: %w", g.Name, err)
	}
	st.Bindings = nil
	for _, b := range bindings {
		if b.DeletionTimestamp.IsZero() {
			st.Bindings = append(st.Bindings, b.Name)
		}
	}
	sort.Strings(st.Bindings)

	cycle, err := r.members.cycleThrough(ctx, g.Name)
	if err != nil {
		return err
	}
	missing, err := r.missingParents(ctx, g)
	if err != nil {
		return err
	}
	reason, msg := scimv1.ReconciledReason, fmt.Sprintf("%d users through %d nested groups", len(res.users), len(res.groups)-1)
	switch {
	case cycle != nil:
		reason = scimv1.CycleDetectedReason
		msg = "nested groups form a cycle: " + strings.Join(append(cycle, cycle[0]), " -> ")
		if falseReason(before.Status.Conditions, scimv1.MembersResolvedCondition) != reason {
			r.recorder.Eventf(g, nil, corev1.EventTypeWarning, "CycleDetected", "Resolve", msg)
		}
	case len(missing) > 0:
		reason = scimv1.GroupNotFoundReason
		msg = "memberOf names groups that do not exist: " + strings.Join(missing, ", ")
	}
	ok := reason == scimv1.ReconciledReason
	setCondition(&st.Conditions, gen, scimv1.MembersResolvedCondition, ok, reason, msg)
	setCondition(&st.Conditions, gen, scimv1.ReadyCondition, ok, reason, msg)
	if ok {
		st.ObservedGeneration = gen
	}
	return nil
}

func (r *ScimGroupReconciler) missingParents(ctx context.Context, g *scimv1.ScimGroup) ([]string, error) {
	var missing []string
	for _, name := range g.Spec.MemberOf {
		parent, err := r.members.group(ctx, name)
		if err != nil {
			return nil, err
		}
		if parent == nil {
			missing = append(missing, name)
		}
	}
	return missing, nil
}

// finalize removes g from every member's memberOf, then releases g.
func (r *ScimGroupReconciler) finalize(ctx context.Context, g *scimv1.ScimGroup) error {
	if !controllerutil.ContainsFinalizer(g, scimv1.GroupFinalizer) {
		return nil
	}
	log := ctrl.LoggerFrom(ctx)
	var users scimv1.ScimUserList
	if err := r.reader.List(ctx, &users, client.MatchingFields{scimv1.IndexMemberOf: g.Name}, readOnly); err != nil {
		return fmt.Errorf("listing members of ScimGroup %s: %w", g.Name, err)
	}
	var groups scimv1.ScimGroupList
	if err := r.reader.List(ctx, &groups, client.MatchingFields{scimv1.IndexMemberOf: g.Name}, readOnly); err != nil {
		return fmt.Errorf("listing member groups of ScimGroup %s: %w", g.Name, err)
	}
	log.Info("Removing deleted group from its members", "ScimGroup", klog.KObj(g), "users", len(users.Items), "groups", len(groups.Items))
	eg, egctx := errgroup.WithContext(ctx)
	eg.SetLimit(writeParallelism)
	for i := range users.Items {
		orig := &users.Items[i]
		eg.Go(func() error {
			patched := orig.DeepCopy()
			patched.Spec.MemberOf = without(orig.Spec.MemberOf, g.Name)
			return r.patchMember(egctx, patched, orig)
		})
	}
	for i := range groups.Items {
		orig := &groups.Items[i]
		eg.Go(func() error {
			patched := orig.DeepCopy()
			patched.Spec.MemberOf = without(orig.Spec.MemberOf, g.Name)
			return r.patchMember(egctx, patched, orig)
		})
	}
	if err := eg.Wait(); err != nil {
		return err
	}
	patched := g.DeepCopy()
	controllerutil.RemoveFinalizer(patched, scimv1.GroupFinalizer)
	if err := r.writer.Patch(ctx, patched, client.MergeFromWithOptions(g, client.MergeFromWithOptimisticLock{}), fieldOwner); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("removing finalizer from ScimGroup %s: %w", g.Name, err))
	}
	return nil
}

// patchMember writes a member's shortened memberOf; optimistic locking makes a concurrent SCIM
// write win and this pass retry with fresh data.
func (r *ScimGroupReconciler) patchMember(ctx context.Context, patched, orig client.Object) error {
	if err := r.writer.Patch(ctx, patched, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}), fieldOwner); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("removing group from memberOf of %T %s: %w", orig, orig.GetName(), err))
	}
	return nil
}

func without(list []string, name string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == name })
}
