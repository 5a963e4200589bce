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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// maxAccessSummary bounds status.accessSummary, a one-line view for `kubectl get -o wide`.
const maxAccessSummary = 200

// maxAccessGrants bounds the namespace/role pairs in status.access (the API's MaxItems on a
// grant's namespaces matches it) so that a user in many widely bound groups cannot push
// the ScimUser past the API server's object size limit; the Ready message gives the full count.
const maxAccessGrants = 1000

// ScimUserReconciler maintains a ScimUser's status (groups, effective access, subjects,
// conditions) and, when enabled, its per-user ServiceAccount. The RBAC objects themselves are
// written by the ScimGroupBindingReconciler.
type ScimUserReconciler struct {
	reader   client.Reader // the manager's cache
	live     client.Reader // the API server, for objects the cache may not hold
	writer   client.Client
	opts     Options
	members  membership
	recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimusers,verbs=get;list;watch
// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimusers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimusers/finalizers,verbs=update

// Per-user ServiceAccounts live in one namespace (--service-account-namespace, default
// kubescim-users): the controllers may touch ServiceAccounts there only, through a Role the chart
// renders in serviceAccounts.namespace, and only with serviceAccounts.enabled.
// +kubebuilder:rbac:groups="",namespace=kubescim-users,resources=serviceaccounts,verbs=get;list;watch;create;update;patch;delete

// Reconcile converges one ScimUser.
func (r *ScimUserReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	var u scimv1.ScimUser
	if err := r.reader.Get(ctx, req.NamespacedName, &u); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("getting ScimUser %s: %w", req.Name, err)
		}
		if r.opts.ServiceAccounts {
			return ctrl.Result{}, r.removeServiceAccount(ctx, req.Name)
		}
		return ctrl.Result{}, nil
	}
	before := u.DeepCopy()
	defer func() {
		retErr = errors.Join(retErr, patchStatus(ctx, r.writer, before, &u, before.Status, u.Status))
	}()
	return ctrl.Result{}, r.reconcile(ctx, &u, before)
}

// reconcile fills u.Status in memory and keeps the per-user ServiceAccount. Only a pass that put
// u's generation into effect sets status.observedGeneration: one whose subject is refused or
// whose ServiceAccount write failed leaves it, and the conditions say why. An inactive user
// granted nothing is in effect.
func (r *ScimUserReconciler) reconcile(ctx context.Context, u *scimv1.ScimUser, before *scimv1.ScimUser) error {
	gen := u.Generation
	st := &u.Status
	active := u.Spec.IsActive() && u.DeletionTimestamp.IsZero()

	groups, err := r.members.ancestors(ctx, u.Spec.MemberOf)
	if err != nil {
		return err
	}
	st.Groups = groupDisplayNames(groups)
	st.GroupCount = int32(len(st.Groups))

	verdict := nameSubject(u, r.opts)
	if verdict.valid() {
		setCondition(&st.Conditions, gen, scimv1.SubjectValidCondition, true, scimv1.ReconciledReason, "subject name is usable")
	} else {
		setCondition(&st.Conditions, gen, scimv1.SubjectValidCondition, false, verdict.reason, verdict.message)
		if falseReason(before.Status.Conditions, scimv1.SubjectValidCondition) != verdict.reason {
			r.recorder.Eventf(u, nil, corev1.EventTypeWarning, "Refused", "Bind", "Subject refused: %s", verdict.message)
		}
	}
	st.Subjects = userSubjects(u, r.opts)

	st.Access = nil
	if active && verdict.valid() {
		if st.Access, err = r.access(ctx, groups); err != nil {
			return err
		}
	}
	var grants int
	st.Access, grants = capGrants(st.Access, maxAccessGrants)
	st.AccessSummary = accessSummary(grantPairs(st.Access))
	r.announceAccess(u, before.Status.Access, st.Access)

	saErr := r.reconcileServiceAccount(ctx, u, active && verdict.valid())

	switch {
	case !active:
		setCondition(&st.Conditions, gen, scimv1.ReadyCondition, false, scimv1.InactiveReason, inactiveMessage(u))
		if falseReason(before.Status.Conditions, scimv1.ReadyCondition) != scimv1.InactiveReason {
			r.recorder.Eventf(u, nil, corev1.EventTypeNormal, "Deactivated", "Revoke", "All access removed: %s", inactiveMessage(u))
		}
	case !verdict.valid():
		setCondition(&st.Conditions, gen, scimv1.ReadyCondition, false, verdict.reason, verdict.message)
	case saErr != nil:
		setCondition(&st.Conditions, gen, scimv1.ReadyCondition, false, scimv1.ApplyFailedReason, saErr.Error())
	default:
		setCondition(&st.Conditions, gen, scimv1.ReadyCondition, true, scimv1.ReconciledReason,
			fmt.Sprintf("%d grants through %d groups", grants, len(st.Groups)))
	}
	if saErr == nil && (!active || verdict.valid()) {
		st.ObservedGeneration = gen
	}
	return saErr
}

// inactiveMessage says why a user that is not active is granted nothing: its deletion is
// pending, the identity provider deactivated it (active=false), or active is unassigned (never
// sent, or removed by a SCIM PATCH), which grants nothing until the identity provider sets it.
func inactiveMessage(u *scimv1.ScimUser) string {
	switch {
	case !u.DeletionTimestamp.IsZero():
		return "user is being deleted and granted nothing"
	case u.Spec.Active == nil:
		return "user's active attribute is unassigned; it is granted nothing until the identity provider sets active"
	default:
		return "user is deactivated (active=false) and granted nothing"
	}
}

// reconcileServiceAccount keeps or removes the per-user ServiceAccount and reports it.
func (r *ScimUserReconciler) reconcileServiceAccount(ctx context.Context, u *scimv1.ScimUser, wanted bool) error {
	st := &u.Status
	if !r.opts.ServiceAccounts {
		setCondition(&st.Conditions, u.Generation, scimv1.ServiceAccountReadyCondition, false, scimv1.ServiceAccountDisabledReason, "per-user ServiceAccounts are disabled")
		return nil
	}
	if !wanted {
		if err := r.removeServiceAccount(ctx, u.Name); err != nil {
			setCondition(&st.Conditions, u.Generation, scimv1.ServiceAccountReadyCondition, false, scimv1.ApplyFailedReason, err.Error())
			return err
		}
		reason := falseReason(st.Conditions, scimv1.SubjectValidCondition)
		if reason == "" {
			reason = scimv1.InactiveReason
		}
		setCondition(&st.Conditions, u.Generation, scimv1.ServiceAccountReadyCondition, false, reason, "no ServiceAccount: the user is granted nothing")
		return nil
	}
	if err := r.ensureServiceAccount(ctx, u); err != nil {
		setCondition(&st.Conditions, u.Generation, scimv1.ServiceAccountReadyCondition, false, scimv1.ApplyFailedReason, err.Error())
		return err
	}
	setCondition(&st.Conditions, u.Generation, scimv1.ServiceAccountReadyCondition, true, scimv1.ReconciledReason,
		fmt.Sprintf("ServiceAccount %s/%s", r.opts.ServiceAccountNamespace, serviceAccountName(u)))
	return nil
}

// access lists the grants of every Ready ScimGroupBinding of the user's groups, one per
// binding, sorted by binding.
func (r *ScimUserReconciler) access(ctx context.Context, groups map[string]*scimv1.ScimGroup) ([]scimv1.AccessGrant, error) {
	seen := map[string]int{} // binding name -> index in grants
	var grants []scimv1.AccessGrant
	for _, g := range groups {
		bindings, err := bindingsSelecting(ctx, r.reader, g.Spec.DisplayName)
		if err != nil {
			return nil, err
		}
		for _, b := range bindings {
			if !b.DeletionTimestamp.IsZero() || !meta.IsStatusConditionTrue(b.Status.Conditions, scimv1.ReadyCondition) {
				continue
			}
			namespaces := namespacesFor(b, g)
			if len(namespaces) == 0 {
				continue
			}
			i, ok := seen[b.Name]
			if !ok {
				group := b.Spec.Group
				if group == "" {
					group = g.Spec.DisplayName // the group a pattern matched
				}
				grants = append(grants, scimv1.AccessGrant{Scope: scimv1.ScopeCluster, Role: b.Spec.RoleRef.Kind + "/" + b.Spec.RoleRef.Name,
					Binding: b.Name, Group: group})
				i = len(grants) - 1
				seen[b.Name] = i
			}
			if b.Spec.Scope != scimv1.ScopeCluster {
				// A copy: namespaces may be read from the cache without one. A template binding
				// gives each of the user's matched groups its own namespace.
				grants[i].Scope = scimv1.ScopeNamespaced
				grants[i].Namespaces = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(grants[i].Namespaces), namespaces...))))
			}
		}
	}
	sort.Slice(grants, func(i, j int) bool { return grants[i].Binding < grants[j].Binding })
	return grants, nil
}

// pairCount is the number of namespace/role pairs of a grant.
func pairCount(g scimv1.AccessGrant) int {
	if g.Scope == scimv1.ScopeCluster {
		return 1
	}
	return len(g.Namespaces)
}

// capGrants keeps the first max namespace/role pairs of grants, in order, and returns how many
// there were in all.
func capGrants(grants []scimv1.AccessGrant, max int) ([]scimv1.AccessGrant, int) {
	total := 0
	for _, g := range grants {
		total += pairCount(g)
	}
	if total <= max {
		return grants, total
	}
	var kept []scimv1.AccessGrant
	for _, g := range grants {
		if max == 0 {
			break
		}
		if g.Scope != scimv1.ScopeCluster && len(g.Namespaces) > max {
			g.Namespaces = g.Namespaces[:max]
		}
		kept = append(kept, g)
		max -= pairCount(g)
	}
	return kept, total
}

// grantPair is one namespace/role pair of a grant; namespace "" is cluster-wide.
type grantPair struct{ namespace, role, binding, group string }

func (p grantPair) key() string {
	return p.namespace + "\x00" + p.role + "\x00" + p.binding + "\x00" + p.group
}

// grantPairs flattens grants into their namespace/role pairs, sorted by namespace.
func grantPairs(grants []scimv1.AccessGrant) []grantPair {
	var pairs []grantPair
	for _, g := range grants {
		if g.Scope == scimv1.ScopeCluster {
			pairs = append(pairs, grantPair{"", g.Role, g.Binding, g.Group})
		}
		for _, ns := range g.Namespaces {
			pairs = append(pairs, grantPair{ns, g.Role, g.Binding, g.Group})
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].key() < pairs[j].key() })
	return pairs
}

// accessSummary renders pairs as "team-a:edit, *:view" (cluster-wide as "*"), truncated.
func accessSummary(pairs []grantPair) string {
	seen := map[string]bool{}
	var parts []string
	for _, g := range pairs {
		ns := g.namespace
		if ns == "" {
			ns = "*"
		}
		_, name, _ := strings.Cut(g.role, "/")
		p := ns + ":" + name
		if !seen[p] {
			seen[p] = true
			parts = append(parts, p)
		}
	}
	return truncate(strings.Join(parts, ", "), maxAccessSummary)
}

func groupDisplayNames(groups map[string]*scimv1.ScimGroup) []string {
	seen := map[string]bool{}
	var names []string
	for _, g := range groups {
		if !seen[g.Spec.DisplayName] {
			seen[g.Spec.DisplayName] = true
			names = append(names, g.Spec.DisplayName)
		}
	}
	sort.Strings(names)
	return names
}

// announceAccess emits AccessGranted / AccessRevoked Events for the namespace/role pairs that
// appeared or went. A status written before grants had a scope (one entry per namespace, pruned
// by the current schema) says nothing about what the user had, so it announces nothing.
func (r *ScimUserReconciler) announceAccess(u *scimv1.ScimUser, old, current []scimv1.AccessGrant) {
	for _, g := range old {
		if g.Scope == "" {
			return
		}
	}
	had := map[string]grantPair{}
	for _, p := range grantPairs(old) {
		had[p.key()] = p
	}
	var added []grantPair
	for _, p := range grantPairs(current) {
		if _, ok := had[p.key()]; ok {
			delete(had, p.key())
			continue
		}
		added = append(added, p)
	}
	if len(added) > 0 {
		r.recorder.Eventf(u, nil, corev1.EventTypeNormal, "AccessGranted", "Bind", "Granted %s", truncate(accessSummary(added), 1000))
	}
	if len(had) > 0 {
		removed := make([]grantPair, 0, len(had))
		for _, p := range had {
			removed = append(removed, p)
		}
		sort.Slice(removed, func(i, j int) bool { return removed[i].key() < removed[j].key() })
		r.recorder.Eventf(u, nil, corev1.EventTypeNormal, "AccessRevoked", "Revoke", "Revoked %s", truncate(accessSummary(removed), 1000))
	}
}
