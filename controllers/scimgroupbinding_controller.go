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
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// writeParallelism bounds concurrent writes within one reconcile, so a binding over 200
// namespaces converges in a few round trips without flooding the API server.
const writeParallelism = 16

// ScimGroupBindingReconciler turns a ScimGroupBinding into RoleBindings (one set of shards per
// selected namespace) or ClusterRoleBindings, whose subjects are the active users of the bound
// group and its nested groups. It prunes whatever no longer applies.
type ScimGroupBindingReconciler struct {
	reader   client.Reader // the manager's cache
	live     client.Reader // the API server, for objects the cache may not hold
	writer   client.Client // writes (and status)
	opts     Options
	members  membership
	audit    *auditor
	recorder events.EventRecorder
	tallies  *tallies
	written  *ownWrites         // what was last written, to tell echoes from drift
	clock    clock.PassiveClock // nil: the real clock; tests move time with a fake one
	gate     writeGate          // bounds grant-only writes (priority.go); nil: no bound
}

// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimgroupbindings,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimgroupbindings/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimgroupbindings/finalizers,verbs=update
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile converges one ScimGroupBinding.
func (r *ScimGroupBindingReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	var b scimv1.ScimGroupBinding
	if err := r.reader.Get(ctx, req.NamespacedName, &b); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("getting ScimGroupBinding %s: %w", req.Name, err)
		}
		// Gone: prune ourselves rather than wait for the garbage collector.
		b.Name = req.Name
		return ctrl.Result{}, r.converge(ctx, &b, nil, nil)
	}
	if !b.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.converge(ctx, &b, nil, nil)
	}
	before := b.DeepCopy()
	defer func() {
		retErr = errors.Join(retErr, patchStatus(ctx, r.writer, before, &b, before.Status, b.Status))
	}()
	// The timer wakes the binding at its next grant-window boundary (notBefore, expiresAt);
	// the window itself is checked first in every pass (evaluate), so a binding that expired
	// while kubescim was down loses its grants at its first pass.
	_, next := grantWindow(&b, r.now())
	return ctrl.Result{RequeueAfter: next}, r.reconcile(ctx, &b)
}

func (r *ScimGroupBindingReconciler) now() time.Time {
	if r.clock == nil {
		return time.Now()
	}
	return r.clock.Now()
}

// reconcile computes b's RBAC, writes it and fills b.Status in memory. A binding that cannot be
// put into effect leaves through refuse; a write that fails leaves no subject that should go
// (converge). doc.go, "Fail closed", states the rule. Only a pass that put b's generation into
// effect sets status.observedGeneration, so that `kubectl wait` and GitOps health checks never
// read a refused or failed generation as observed; the conditions say what went wrong.
func (r *ScimGroupBindingReconciler) reconcile(ctx context.Context, b *scimv1.ScimGroupBinding) error {
	gen := b.Generation
	st := &b.Status
	refusedAs := falseReason(st.Conditions, scimv1.ReadyCondition)
	role := RoleName{Kind: b.Spec.RoleRef.Kind, Name: b.Spec.RoleRef.Name}

	ev, err := r.evaluate(ctx, b)
	if ev.roleBindable {
		setCondition(&st.Conditions, gen, scimv1.RoleBindableCondition, true, scimv1.ReconciledReason, role.String()+" may be bound")
	}
	if ev.groupFound {
		setCondition(&st.Conditions, gen, scimv1.GroupFoundCondition, true, scimv1.ReconciledReason, groupsFoundMessage(ev.matches))
	}
	r.recordMatches(b, ev.matches)
	if err != nil {
		return r.refuse(ctx, b, refusedAs, evaluationFailed(err))
	}
	if ev.refused != nil {
		return r.refuse(ctx, b, refusedAs, *ev.refused)
	}
	if refusedAs == scimv1.NotYetActiveReason {
		r.recorder.Eventf(b, nil, corev1.EventTypeNormal, "Active", "Bind", "notBefore reached, the binding grants")
	}
	err = r.converge(ctx, b, ev.grants, ev.owners)
	if refusedByAPIServer(err) {
		return r.refuse(ctx, b, refusedAs, refusal{condition: scimv1.RoleBindableCondition, reason: scimv1.RoleNotAllowedReason,
			message: err.Error(), event: fmt.Sprintf("The API server refused to bind %s", role), err: err})
	}
	st.Subjects = int32(len(ev.subjects))
	if err != nil {
		setCondition(&st.Conditions, gen, scimv1.ReadyCondition, false, scimv1.ApplyFailedReason, err.Error())
		return err
	}
	setCondition(&st.Conditions, gen, scimv1.ReadyCondition, true, scimv1.ReconciledReason,
		fmt.Sprintf("%d subjects bound to %s", len(ev.subjects), role)+skippedNote(ev.matches))
	st.ObservedGeneration = gen
	return nil
}

// subjects returns the sorted subjects of every active user in the groups (nested included)
// and who each subject stands for.
func (r *ScimGroupBindingReconciler) subjects(ctx context.Context, groups []*scimv1.ScimGroup) ([]rbacv1.Subject, map[string]subjectOwner, error) {
	roots := make([]string, len(groups))
	for i, g := range groups {
		roots[i] = g.Name
	}
	res, err := r.members.members(ctx, roots...)
	if err != nil {
		return nil, nil, err
	}
	owners := map[string]subjectOwner{}
	subjects := make([]rbacv1.Subject, 0, len(res.users))
	for _, u := range res.users {
		for _, s := range userSubjects(u, r.opts) {
			k := subjectKey(s)
			if _, dup := owners[k]; dup {
				continue
			}
			owners[k] = ownerOf(u)
			subjects = append(subjects, s)
		}
	}
	sortSubjects(subjects)
	return subjects, owners, nil
}

// namespaceSelector parses b's namespaceSelector; nil when it has none.
func namespaceSelector(b *scimv1.ScimGroupBinding) (labels.Selector, error) {
	if b.Spec.NamespaceSelector == nil {
		return nil, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(b.Spec.NamespaceSelector)
	if err != nil {
		return nil, fmt.Errorf("invalid namespaceSelector: %w", err)
	}
	return sel, nil
}

// selectNamespaces returns the live namespaces b selects, by name or by sel, sorted.
func (r *ScimGroupBindingReconciler) selectNamespaces(ctx context.Context, b *scimv1.ScimGroupBinding, sel labels.Selector) ([]string, error) {
	live, err := r.liveNamespaces(ctx)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, n := range b.Spec.Namespaces {
		listed[n] = true
	}
	var out []string
	for _, ns := range live {
		if listed[ns.Name] || (sel != nil && sel.Matches(labels.Set(ns.Labels))) {
			out = append(out, ns.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// existingBindings returns b's managed objects by namespace ("" for ClusterRoleBindings) and
// name.
func (r *ScimGroupBindingReconciler) existingBindings(ctx context.Context, binding string) (map[string]map[string]client.Object, error) {
	out := map[string]map[string]client.Object{}
	add := func(o client.Object) {
		if out[o.GetNamespace()] == nil {
			out[o.GetNamespace()] = map[string]client.Object{}
		}
		out[o.GetNamespace()][o.GetName()] = o
	}
	var rbs rbacv1.RoleBindingList
	if err := r.reader.List(ctx, &rbs, client.MatchingFields{indexOwningBinding: binding}); err != nil {
		return nil, fmt.Errorf("listing RoleBindings of %s: %w", binding, err)
	}
	for i := range rbs.Items {
		add(&rbs.Items[i])
	}
	var crbs rbacv1.ClusterRoleBindingList
	if err := r.reader.List(ctx, &crbs, client.MatchingFields{indexOwningBinding: binding}); err != nil {
		return nil, fmt.Errorf("listing ClusterRoleBindings of %s: %w", binding, err)
	}
	for i := range crbs.Items {
		add(&crbs.Items[i])
	}
	return out, nil
}

// converge makes b's managed objects exactly the shards of each grant's subjects in its unit (a
// namespace, or "" for cluster scope), deleting everything else b owns, and audits the subjects that were
// added or removed. It runs in phases, as Cluster API's doReconcile does: plan what each unit
// should hold, write the units in parallel and collect one result per unit, then, from the
// results alone, record in b.Status where managed objects are held, refresh the metric tallies
// and audit the changes. A unit whose write fails keeps no subject that should go (withdraw).
// converge returns the joined errors of the units that failed.
func (r *ScimGroupBindingReconciler) converge(ctx context.Context, b *scimv1.ScimGroupBinding, grants []unitGrant,
	owners map[string]subjectOwner) error {
	existing, err := r.existingBindings(ctx, b.Name)
	if err != nil {
		return err
	}
	if b.Spec.RoleRef.Name == "" {
		// The binding is gone; the audit log names the role its objects granted.
		for _, objs := range existing {
			for _, o := range objs {
				ref, _ := bindingParts(o)
				b.Spec.RoleRef = scimv1.RoleRef{APIGroup: ref.APIGroup, Kind: ref.Kind, Name: ref.Name}
			}
		}
	}
	plans := planUnits(b, grants, existing)
	results := r.writeUnits(ctx, plans)
	sum := summarize(results)
	b.Status.BoundNamespaces = namespacesOf(sum.held)
	b.Status.NamespaceCount = int32(len(b.Status.BoundNamespaces))
	r.tallies.set(b.Name, sum.tally)
	r.recordChanges(ctx, b, sum.changes, owners)
	return sum.err
}

// unitPlan is what one unit should hold and what it holds before the pass.
type unitPlan struct {
	unit     string
	desired  []client.Object // nil when the unit is no longer wanted
	existing map[string]client.Object
}

// unitResult is what writing one unit did.
type unitResult struct {
	unitPlan
	now []client.Object // what the unit holds afterwards, as far as this pass knows
	err error
}

// planUnits pairs every granted unit with its desired shards, and every other unit where b still
// holds objects with nothing (to be pruned).
func planUnits(b *scimv1.ScimGroupBinding, grants []unitGrant, existing map[string]map[string]client.Object) []unitPlan {
	plans := make([]unitPlan, 0, len(grants)+len(existing))
	wanted := make(map[string]bool, len(grants))
	for _, g := range grants {
		wanted[g.unit] = true
		plans = append(plans, unitPlan{unit: g.unit, desired: desiredBindings(b, g.unit, g.shards), existing: existing[g.unit]})
	}
	for u, objs := range existing {
		if !wanted[u] {
			plans = append(plans, unitPlan{unit: u, existing: objs})
		}
	}
	return plans
}

// writeUnits writes the planned units, at most writeParallelism at a time, those that take a
// subject away first and those that only grant through the gate (priority.go), and returns one
// result per plan, in plan order. Each write fills only its own result, so nothing is shared.
func (r *ScimGroupBindingReconciler) writeUnits(ctx context.Context, plans []unitPlan) []unitResult {
	results := make([]unitResult, len(plans))
	sem := make(chan struct{}, writeParallelism)
	var wg sync.WaitGroup
	order, revokes := revokingFirst(plans)
	for _, i := range order {
		p := plans[i]
		sem <- struct{}{}
		leave := r.gate.enter(!revokes[i] && p.writes())
		wg.Go(func() {
			defer func() { <-sem }()
			defer leave()
			now, err := r.convergeUnit(ctx, p.desired, p.existing)
			if err != nil {
				now, err = r.withdraw(ctx, now, p.desired, err)
			}
			results[i] = unitResult{unitPlan: p, now: now, err: err}
		})
	}
	wg.Wait()
	return results
}

// convergeSummary is what the unit results add up to.
type convergeSummary struct {
	held    []string // units holding managed objects afterwards, sorted
	tally   bindingTally
	changes map[string]*accessChange
	err     error // the joined errors of the units that failed
}

func summarize(results []unitResult) convergeSummary {
	sum := convergeSummary{changes: map[string]*accessChange{}}
	var errs []error
	for _, res := range results {
		if res.err != nil {
			errs = append(errs, res.err)
		}
		if len(res.now) > 0 {
			sum.held = append(sum.held, res.unit)
		}
		for _, o := range res.now {
			if res.unit == "" {
				sum.tally.clusterRoleBindings++
			} else {
				sum.tally.roleBindings++
			}
			sum.tally.subjects += len(subjectsOf(o))
		}
		added, removed := diffSubjects(res.existing, res.now)
		for _, s := range added {
			noteChange(sum.changes, true, s, res.unit)
		}
		for _, s := range removed {
			noteChange(sum.changes, false, s, res.unit)
		}
	}
	sort.Strings(sum.held)
	sum.err = errors.Join(errs...)
	return sum
}

// convergeUnit writes one unit's desired objects and deletes the rest of existing there. It
// returns what the unit holds afterwards as far as this pass knows, also when a write failed:
// the objects written, and those of existing not yet rewritten or deleted.
func (r *ScimGroupBindingReconciler) convergeUnit(ctx context.Context, desired []client.Object, existing map[string]client.Object) ([]client.Object, error) {
	now := make(map[string]client.Object, len(existing)+len(desired))
	maps.Copy(now, existing)
	keep := map[string]bool{}
	for _, d := range desired {
		keep[d.GetName()] = true
		if err := r.apply(ctx, existing[d.GetName()], d); err != nil {
			return slices.Collect(maps.Values(now)), err
		}
		now[d.GetName()] = d
	}
	for name, o := range existing {
		if keep[name] {
			continue
		}
		if err := r.deleteManaged(ctx, o); err != nil {
			return slices.Collect(maps.Values(now)), err
		}
		delete(now, name)
	}
	return slices.Collect(maps.Values(now)), nil
}

// withdraw runs after a unit's write failed: it deletes the unit's objects that still hold a
// subject the unit should not grant (any subject, when the unit is no longer wanted), so that a
// failed write never keeps access that should go; a delete passes no escalation check, so it
// works also where the failed write was refused by one. Objects holding only wanted subjects
// stay, so one failed grant does not take access from everyone else. withdraw returns what the
// unit holds afterwards, and failure joined with any delete error.
func (r *ScimGroupBindingReconciler) withdraw(ctx context.Context, now, desired []client.Object, failure error) ([]client.Object, error) {
	wanted := subjectKeys(desired)
	errs := []error{failure}
	kept := make([]client.Object, 0, len(now))
	for _, o := range now {
		if !holdsUnwanted(o, wanted) {
			kept = append(kept, o)
			continue
		}
		if err := r.deleteManaged(ctx, o); err != nil {
			errs = append(errs, err)
			kept = append(kept, o)
		}
	}
	return kept, errors.Join(errs...)
}

// subjectKeys returns the keys of the subjects objs hold.
func subjectKeys(objs []client.Object) map[string]bool {
	keys := map[string]bool{}
	for _, o := range objs {
		for _, s := range subjectsOf(o) {
			keys[subjectKey(s)] = true
		}
	}
	return keys
}

// holdsUnwanted is true when o holds a subject that is not in wanted.
func holdsUnwanted(o client.Object, wanted map[string]bool) bool {
	return slices.ContainsFunc(subjectsOf(o), func(s rbacv1.Subject) bool { return !wanted[subjectKey(s)] })
}

// deleteManaged deletes o unless it was replaced meanwhile (the UID precondition).
func (r *ScimGroupBindingReconciler) deleteManaged(ctx context.Context, o client.Object) error {
	logWrite(ctx, "Deleting", o)
	r.written.forget(o)
	if err := r.writer.Delete(ctx, o, client.Preconditions{UID: ptrUID(o)}); client.IgnoreNotFound(err) != nil {
		return wrapWrite("deleting", o, err)
	}
	return nil
}

// apply creates desired, or brings existing in line with it by server-side apply (field owner
// kubescim, forcing ownership of what kubescim sets); nothing is written when they agree, so a
// resync of an unchanged binding costs no API call. A new object is created with Create, never
// applied: the cache holds only labelled objects, and an apply would silently take over one that
// someone else made under kubescim's name. That one is read live and adopted, as before. An
// object whose roleRef (immutable) differs, or that another controller owns, is replaced.
func (r *ScimGroupBindingReconciler) apply(ctx context.Context, existing, desired client.Object) error {
	key := client.ObjectKeyFromObject(desired)
	if existing == nil {
		logWrite(ctx, "Creating", desired)
		r.written.wrote(desired)
		err := r.writer.Create(ctx, desired.DeepCopyObject().(client.Object), fieldOwner)
		if !apierrors.IsAlreadyExists(err) {
			return wrapWrite("creating", desired, err)
		}
		// Not yet in the cache, or made by someone else under our name (perhaps outside a
		// label-filtered cache): read it from the API server and adopt it.
		existing = desired.DeepCopyObject().(client.Object)
		if err := r.live.Get(ctx, key, existing); err != nil {
			return wrapWrite("reading", desired, err)
		}
	}
	if inSync(existing, desired) {
		return nil
	}
	exRef, _ := bindingParts(existing)
	deRef, _ := bindingParts(desired)
	if *exRef != *deRef || otherController(existing, desired.GetOwnerReferences()[0]) {
		logWrite(ctx, "Replacing", desired)
		r.written.wrote(desired)
		if err := r.writer.Delete(ctx, existing, client.Preconditions{UID: ptrUID(existing)}); client.IgnoreNotFound(err) != nil {
			return wrapWrite("replacing", desired, err)
		}
		return wrapWrite("creating", desired, r.writer.Create(ctx, desired.DeepCopyObject().(client.Object), fieldOwner))
	}
	ac, err := bindingApplyConfiguration(desired)
	if err != nil {
		return wrapWrite("applying", desired, err)
	}
	logWrite(ctx, "Applying", desired)
	r.written.wrote(desired)
	return wrapWrite("applying", desired, r.writer.Apply(ctx, ac, fieldOwner, client.ForceOwnership))
}

// bindingKind names o's kind: managed objects without a namespace are ClusterRoleBindings.
func bindingKind(o client.Object) string {
	if o.GetNamespace() == "" {
		return "ClusterRoleBinding"
	}
	return "RoleBinding"
}

// logWrite logs, at V(1) and before acting, a write to a RoleBinding or ClusterRoleBinding:
// "Creating RoleBinding", "Deleting ClusterRoleBinding"...
func logWrite(ctx context.Context, verb string, o client.Object) {
	kind := bindingKind(o)
	ctrl.LoggerFrom(ctx).V(1).Info(verb+" "+kind, kind, klog.KObj(o))
}

func wrapWrite(verb string, o client.Object, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s %s: %w", verb, bindingKind(o), strings.TrimPrefix(o.GetNamespace()+"/"+o.GetName(), "/"), err)
}

func ptrUID(o client.Object) *types.UID {
	uid := o.GetUID()
	return &uid
}

// diffSubjects compares the subjects held across a unit's existing shards with those it holds now.
func diffSubjects(existing map[string]client.Object, now []client.Object) (added, removed []rbacv1.Subject) {
	had := map[string]rbacv1.Subject{}
	for _, o := range existing {
		for _, s := range subjectsOf(o) {
			had[subjectKey(s)] = s
		}
	}
	for _, o := range now {
		for _, s := range subjectsOf(o) {
			k := subjectKey(s)
			if _, ok := had[k]; ok {
				delete(had, k)
				continue
			}
			added = append(added, s)
		}
	}
	for _, s := range had {
		removed = append(removed, s)
	}
	return added, removed
}

func noteChange(changes map[string]*accessChange, granted bool, s rbacv1.Subject, unit string) {
	k := fmt.Sprintf("%t/%s", granted, subjectKey(s))
	c := changes[k]
	if c == nil {
		c = &accessChange{granted: granted, subject: s}
		changes[k] = c
	}
	c.namespaces = append(c.namespaces, unit)
}

// recordChanges audits the written changes and emits one Event per direction on the binding.
func (r *ScimGroupBindingReconciler) recordChanges(ctx context.Context, b *scimv1.ScimGroupBinding,
	changes map[string]*accessChange, owners map[string]subjectOwner) {
	if len(changes) == 0 {
		return
	}
	list := make([]accessChange, 0, len(changes))
	var granted, revoked int
	for _, c := range changes {
		sort.Strings(c.namespaces)
		owner, known := owners[subjectKey(c.subject)]
		if !known {
			owner = r.audit.ownerOfSubject(ctx, c.subject)
		}
		c.owner = owner
		if c.granted {
			granted++
		} else {
			revoked++
		}
		list = append(list, *c)
	}
	sort.Slice(list, func(i, j int) bool { return subjectKey(list[i].subject) < subjectKey(list[j].subject) })
	r.audit.record(b, list)
	if b.UID == "" {
		return // the binding is gone; there is nothing to attach an Event to
	}
	role := b.Spec.RoleRef.Kind + "/" + b.Spec.RoleRef.Name
	if granted > 0 {
		r.recorder.Eventf(b, nil, corev1.EventTypeNormal, "AccessGranted", "Bind", "Granted %s to %d subjects", role, granted)
	}
	if revoked > 0 {
		r.recorder.Eventf(b, nil, corev1.EventTypeNormal, "AccessRevoked", "Bind", "Revoked %s from %d subjects", role, revoked)
	}
}
