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
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Fan-out: which objects to reconcile when another one changes. Every map function looks at
// both the old and the new object of an update, so that a user leaving a group re-reconciles
// the bindings of the group it left, not only of the groups it is in now.

type mapFunc func(ctx context.Context, obj client.Object) []string

// relevantChange filters updates before mapping; nil means every update counts.
type relevantChange func(oldObj, newObj client.Object) bool

// enqueueBoth maps the object of create, delete and generic events, and both the old and the
// new object of relevant updates, to requests for cluster-scoped objects named by fn.
func enqueueBoth(fn mapFunc, relevant relevantChange) handler.Funcs {
	return enqueue(fn, relevant, nil, 0)
}

// enqueueBothAfter is enqueueBoth with the requests delayed, so that a burst of changes (an
// IdP pushing thousands of members) coalesces into one reconcile. Only for status that may lag
// a little; never for RBAC.
func enqueueBothAfter(fn mapFunc, relevant relevantChange, delay time.Duration) handler.Funcs {
	return enqueue(fn, relevant, nil, delay)
}

// enqueueRevocationsFirst is enqueueBoth with the requests of deletes, and of the updates
// revokes says can take access away, queued ahead of every other request (priority.go).
func enqueueRevocationsFirst(fn mapFunc, relevant relevantChange, revokes revoking) handler.Funcs {
	return enqueue(fn, relevant, revokes, 0)
}

func enqueue(fn mapFunc, relevant relevantChange, revokes revoking, delay time.Duration) handler.Funcs {
	add := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], obj client.Object, revocation bool) {
		for _, name := range fn(ctx, obj) {
			req := reconcile.Request{NamespacedName: types.NamespacedName{Name: name}}
			if delay > 0 {
				q.AddAfter(req, delay)
			} else {
				addRequest(q, req, revocation)
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, q, e.Object, false)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if relevant != nil && !relevant(e.ObjectOld, e.ObjectNew) {
				return
			}
			revocation := revokes != nil && revokes(e.ObjectOld, e.ObjectNew)
			add(ctx, q, e.ObjectOld, revocation)
			add(ctx, q, e.ObjectNew, revocation)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, q, e.Object, revokes != nil)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, q, e.Object, false)
		},
	}
}

// itself maps an object to a request for itself.
func itself(_ context.Context, obj client.Object) []string { return []string{obj.GetName()} }

// specChanged is true when the generation moved (spec edits and the start of deletion).
func specChanged(o, n client.Object) bool { return o.GetGeneration() != n.GetGeneration() }

// fanout holds the map functions; they read the manager's cache.
type fanout struct {
	reader  client.Reader
	members membership
}

// fanoutLog is the logger of the map functions, from the controller's context.
func fanoutLog(ctx context.Context) logr.Logger { return ctrl.LoggerFrom(ctx).WithName("fanout") }

// bindingsOfGroups returns the ScimGroupBindings that select any of the groups' displayNames,
// by name or by pattern.
func (f fanout) bindingsOfGroups(ctx context.Context, displayNames []string) []string {
	var out []string
	for _, dn := range displayNames {
		bindings, err := bindingsSelecting(ctx, f.reader, dn)
		if err != nil {
			fanoutLog(ctx).Error(err, "Listing ScimGroupBindings for fan-out")
			continue
		}
		for _, b := range bindings {
			out = append(out, b.Name)
		}
	}
	return out
}

// ancestorsOf returns the live groups above the named ones (them included).
func (f fanout) ancestorsOf(ctx context.Context, names []string) map[string]*scimv1.ScimGroup {
	groups, err := f.members.ancestors(ctx, names)
	if err != nil {
		fanoutLog(ctx).Error(err, "Resolving parent groups for fan-out")
	}
	return groups
}

func displayNamesOf(groups map[string]*scimv1.ScimGroup) []string {
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		out = append(out, g.Spec.DisplayName)
	}
	return out
}

func keys(groups map[string]*scimv1.ScimGroup) []string {
	out := make([]string, 0, len(groups))
	for name := range groups {
		out = append(out, name)
	}
	return out
}

// userToBindings: the bindings of every group the user is in, directly or through nesting.
func (f fanout) userToBindings(ctx context.Context, obj client.Object) []string {
	u := obj.(*scimv1.ScimUser)
	return f.bindingsOfGroups(ctx, displayNamesOf(f.ancestorsOf(ctx, u.Spec.MemberOf)))
}

// userToGroups: every group whose counts include the user.
func (f fanout) userToGroups(ctx context.Context, obj client.Object) []string {
	return keys(f.ancestorsOf(ctx, obj.(*scimv1.ScimUser).Spec.MemberOf))
}

// groupToBindings: the bindings of the group itself (even while it is being deleted) and of
// every group above it.
func (f fanout) groupToBindings(ctx context.Context, obj client.Object) []string {
	g := obj.(*scimv1.ScimGroup)
	names := append(displayNamesOf(f.ancestorsOf(ctx, g.Spec.MemberOf)), g.Spec.DisplayName)
	return f.bindingsOfGroups(ctx, names)
}

// groupToGroups: the group's parents and their ancestors (their counts and cycle checks).
func (f fanout) groupToGroups(ctx context.Context, obj client.Object) []string {
	return keys(f.ancestorsOf(ctx, obj.(*scimv1.ScimGroup).Spec.MemberOf))
}

// groupToUsers: every user in the group, through nesting (their status lists the group).
func (f fanout) groupToUsers(ctx context.Context, obj client.Object) []string {
	res, err := f.members.members(ctx, obj.GetName())
	if err != nil {
		fanoutLog(ctx).Error(err, "Resolving group members for fan-out", "ScimGroup", klog.KObj(obj))
	}
	out := make([]string, 0, len(res.users))
	for name := range res.users {
		out = append(out, name)
	}
	return out
}

// groupsOf returns the groups a binding selects; none when its pattern is invalid.
func (f fanout) groupsOf(ctx context.Context, b *scimv1.ScimGroupBinding) []*scimv1.ScimGroup {
	sel, err := selectorOf(b)
	if err != nil {
		return nil
	}
	groups, err := f.members.groupsSelected(ctx, sel)
	if err != nil {
		fanoutLog(ctx).Error(err, "Finding the groups of a binding for fan-out", "ScimGroupBinding", klog.KObj(b))
	}
	return groups
}

// bindingToUsers: every user of the binding's groups (their status lists the access).
func (f fanout) bindingToUsers(ctx context.Context, obj client.Object) []string {
	groups := f.groupsOf(ctx, obj.(*scimv1.ScimGroupBinding))
	var out []string
	for _, g := range groups {
		out = append(out, f.groupToUsers(ctx, g)...)
	}
	return out
}

// bindingToGroups: the groups a binding selects (their status lists the binding).
func (f fanout) bindingToGroups(ctx context.Context, obj client.Object) []string {
	groups := f.groupsOf(ctx, obj.(*scimv1.ScimGroupBinding))
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		out = append(out, g.Name)
	}
	return out
}

// accessChanged is true when a binding change can change its users' effective access.
func accessChanged(o, n client.Object) bool {
	ob, nb := o.(*scimv1.ScimGroupBinding), n.(*scimv1.ScimGroupBinding)
	return ob.Generation != nb.Generation ||
		!equality.Semantic.DeepEqual(ob.Status.BoundNamespaces, nb.Status.BoundNamespaces) ||
		meta.IsStatusConditionTrue(ob.Status.Conditions, scimv1.ReadyCondition) !=
			meta.IsStatusConditionTrue(nb.Status.Conditions, scimv1.ReadyCondition)
}

// namespaceToBindings: bindings that list the namespace or whose selector matches it.
func (f fanout) namespaceToBindings(ctx context.Context, obj client.Object) []string {
	var list scimv1.ScimGroupBindingList
	if err := f.reader.List(ctx, &list, readOnly); err != nil {
		fanoutLog(ctx).Error(err, "Listing ScimGroupBindings for fan-out", "Namespace", klog.KObj(obj))
		return nil
	}
	var out []string
	for _, b := range list.Items {
		if b.Spec.Scope == scimv1.ScopeCluster {
			continue
		}
		if selectsNamespace(&b, obj) {
			out = append(out, b.Name)
		}
	}
	return out
}

// selectsNamespace reports whether b may bind in ns. A namespaceTemplate may produce any name,
// so a binding with one is reconciled on every namespace change.
func selectsNamespace(b *scimv1.ScimGroupBinding, ns client.Object) bool {
	if b.Spec.NamespaceTemplate != "" {
		return true
	}
	for _, n := range b.Spec.Namespaces {
		if n == ns.GetName() {
			return true
		}
	}
	if b.Spec.NamespaceSelector == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(b.Spec.NamespaceSelector)
	return err == nil && sel.Matches(labels.Set(ns.GetLabels()))
}

func namespaceChanged(o, n client.Object) bool {
	return !equality.Semantic.DeepEqual(o.GetLabels(), n.GetLabels()) ||
		o.GetDeletionTimestamp().IsZero() != n.GetDeletionTimestamp().IsZero() ||
		o.(*corev1.Namespace).Status.Phase != n.(*corev1.Namespace).Status.Phase
}

// labelValue maps an object kubescim manages to the owner named in one of its labels.
func labelValue(label string) mapFunc {
	return func(_ context.Context, obj client.Object) []string {
		if obj.GetLabels()[scimv1.ManagedByLabel] != scimv1.ManagedByValue {
			return nil
		}
		return nonEmpty(obj.GetLabels()[label])
	}
}
