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
	"sort"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// evaluation is what a ScimGroupBinding should grant, computed before anything is written. The
// reconciler writes it; previews (preview.go) report it.
type evaluation struct {
	// refused says why the binding grants nothing; nil when it is put into effect.
	refused *refusal
	// roleBindable and groupFound say which checks passed before a refusal, for their
	// conditions.
	roleBindable, groupFound bool
	// matches are every group the binding selects, skipped ones first (status.matchedGroups).
	matches []scimv1.GroupMatch
	// grants are the units (namespaces, or "" for cluster scope) to hold managed objects.
	grants []unitGrant
	// subjects are the distinct subjects over all units, sorted; owners says who each stands for.
	subjects []rbacv1.Subject
	owners   map[string]subjectOwner
}

// unitGrant is what one unit should hold: the subjects of its groups, sharded.
type unitGrant struct {
	unit     string
	groups   []*scimv1.ScimGroup
	subjects []rbacv1.Subject
	shards   [][]rbacv1.Subject
}

// units lists the units of the grants.
func (ev evaluation) units() []string {
	out := make([]string, len(ev.grants))
	for i, g := range ev.grants {
		out[i] = g.unit
	}
	return out
}

// evaluate decides what b grants: the grant window, the bindable-role guard, the selectors,
// the groups and their active members, and the namespaces. A refusal leaves the rest unset;
// an error means b cannot be evaluated now (the reconciler refuses it with EvaluationFailed).
func (r *ScimGroupBindingReconciler) evaluate(ctx context.Context, b *scimv1.ScimGroupBinding) (evaluation, error) {
	var ev evaluation
	role := RoleName{Kind: b.Spec.RoleRef.Kind, Name: b.Spec.RoleRef.Name}
	if !b.DeletionTimestamp.IsZero() {
		ev.refused = &refusal{reason: "Deleting", message: "the binding is being deleted"}
		return ev, nil
	}
	if b.Spec.MemberSelector != nil {
		// Fleet bindings grant in the members that mirror them (controllers/fleet); a member's
		// copy has no selector. Refused here, so that adding a selector removes local grants.
		ev.refused = &refusal{reason: scimv1.AppliesInMembersReason,
			message: "spec.memberSelector makes this a fleet binding: it grants in the member clusters it selects, not in this one"}
		return ev, nil
	}
	if why, _ := grantWindow(b, r.now()); why != nil {
		ev.refused = why
		return ev, nil
	}
	if !r.opts.roleAllowed(role.Kind, role.Name) {
		msg := fmt.Sprintf("%s is not in kubescim's bindable roles", role)
		ev.refused = &refusal{condition: scimv1.RoleBindableCondition, reason: scimv1.RoleNotAllowedReason,
			message: msg, err: reconcile.TerminalError(errors.New(msg))}
		return ev, nil
	}
	ev.roleBindable = true
	nsSel, err := namespaceSelector(b)
	if err != nil {
		ev.refused = &refusal{reason: scimv1.InvalidNamespaceSelectorReason, message: err.Error(), err: reconcile.TerminalError(err)}
		return ev, nil
	}
	sel, err := selectorOf(b)
	if err != nil {
		ev.refused = &refusal{reason: scimv1.InvalidGroupPatternReason, message: err.Error(), err: reconcile.TerminalError(err)}
		return ev, nil
	}
	groups, err := r.members.groupsSelected(ctx, sel)
	if err != nil {
		return ev, err
	}
	if len(groups) == 0 {
		msg := fmt.Sprintf("no ScimGroup has displayName %q", b.Spec.Group)
		if sel.byPattern() {
			msg = fmt.Sprintf("no ScimGroup's displayName matches groupPattern %q", b.Spec.GroupPattern)
		}
		ev.refused = &refusal{condition: scimv1.GroupFoundCondition, reason: scimv1.GroupNotFoundReason, message: msg}
		return ev, nil
	}
	ev.groupFound = true
	if sel.template != nil {
		return ev, r.evaluateTemplate(ctx, &ev, sel, groups)
	}
	for _, g := range groups {
		ev.matches = append(ev.matches, scimv1.GroupMatch{Group: g.Spec.DisplayName})
	}
	sortMatches(ev.matches)
	if ev.subjects, ev.owners, err = r.subjects(ctx, groups); err != nil {
		return ev, err
	}
	units := []string{""}
	if b.Spec.Scope != scimv1.ScopeCluster {
		if units, err = r.selectNamespaces(ctx, b, nsSel); err != nil {
			return ev, err
		}
	}
	shards := shardSubjects(ev.subjects, r.opts.MaxSubjectsPerBinding)
	for _, u := range units {
		ev.grants = append(ev.grants, unitGrant{unit: u, groups: groups, subjects: ev.subjects, shards: shards})
	}
	return ev, nil
}

// evaluateTemplate places each group in the namespace its captures make: the members of the
// groups placed in one live namespace are its subjects. Groups whose namespace name is invalid
// or does not exist yet are listed as skipped.
func (r *ScimGroupBindingReconciler) evaluateTemplate(ctx context.Context, ev *evaluation, sel groupSelector, groups []*scimv1.ScimGroup) error {
	namespaces, err := r.liveNamespaces(ctx)
	if err != nil {
		return err
	}
	live := sets.New[string]()
	for _, ns := range namespaces {
		live.Insert(ns.Name)
	}
	placed := map[string][]*scimv1.ScimGroup{}
	for _, g := range groups {
		m := scimv1.GroupMatch{Group: g.Spec.DisplayName}
		m.Namespace, m.Skipped = sel.namespaceFor(g.Spec.DisplayName)
		if m.Skipped == "" && !live.Has(m.Namespace) {
			m.Skipped = fmt.Sprintf("namespace %s does not exist (yet)", m.Namespace)
		}
		if m.Skipped == "" {
			placed[m.Namespace] = append(placed[m.Namespace], g)
		}
		ev.matches = append(ev.matches, m)
	}
	sortMatches(ev.matches)
	ev.owners = map[string]subjectOwner{}
	all := map[string]rbacv1.Subject{}
	for ns, gs := range placed {
		subjects, owners, err := r.subjects(ctx, gs)
		if err != nil {
			return err
		}
		for k, o := range owners {
			ev.owners[k] = o
		}
		for _, s := range subjects {
			all[subjectKey(s)] = s
		}
		ev.grants = append(ev.grants, unitGrant{unit: ns, groups: gs, subjects: subjects,
			shards: shardSubjects(subjects, r.opts.MaxSubjectsPerBinding)})
	}
	sort.Slice(ev.grants, func(i, j int) bool { return ev.grants[i].unit < ev.grants[j].unit })
	for _, s := range all {
		ev.subjects = append(ev.subjects, s)
	}
	sortSubjects(ev.subjects)
	return nil
}

// liveNamespaces returns the namespaces that exist and are not being deleted.
func (r *ScimGroupBindingReconciler) liveNamespaces(ctx context.Context) ([]*corev1.Namespace, error) {
	var list corev1.NamespaceList
	if err := r.reader.List(ctx, &list, readOnly); err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	out := make([]*corev1.Namespace, 0, len(list.Items))
	for i := range list.Items {
		if ns := &list.Items[i]; ns.DeletionTimestamp.IsZero() && ns.Status.Phase != corev1.NamespaceTerminating {
			out = append(out, ns)
		}
	}
	return out, nil
}

// sortMatches puts skipped groups first, so that the bounded status list never hides them,
// then orders by displayName.
func sortMatches(ms []scimv1.GroupMatch) {
	sort.SliceStable(ms, func(i, j int) bool {
		if (ms[i].Skipped != "") != (ms[j].Skipped != "") {
			return ms[i].Skipped != ""
		}
		return ms[i].Group < ms[j].Group
	})
}
