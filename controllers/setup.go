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
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Concurrent reconciles per controller. Bindings do the RBAC writes revocation waits for.
const (
	bindingWorkers = 4
	userWorkers    = 4
	groupWorkers   = 2
)

// groupStatusDelay coalesces member changes before a group's counts are recomputed: counting a
// 100,000-member group on every single membership change would be quadratic during a bulk push.
const groupStatusDelay = time.Second

// SetupWithManager registers the ScimGroupBinding, ScimUser and ScimGroup reconcilers, their
// private cache indexes and the kubescim metrics. The shared indexes
// (v1alpha1.SetupIndexes) must already be registered on mgr.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return err
	}
	if err := setupControllerIndexes(context.Background(), mgr.GetFieldIndexer(), opts); err != nil {
		return err
	}
	registerMetrics()

	reader := mgr.GetClient()
	members := membership{reader: reader}
	recorder := mgr.GetEventRecorder("kubescim")
	audit := newAuditor(ctrl.Log.WithName("audit"), reader, opts)
	fan := fanout{reader: reader, members: members, log: ctrl.Log.WithName("fanout")}

	bindings := &ScimGroupBindingReconciler{reader: reader, live: mgr.GetAPIReader(), writer: mgr.GetClient(), opts: opts, members: members,
		audit: audit, recorder: recorder, tallies: newTallies()}
	userEvents := enqueueBoth(fan.userToBindings, specChanged)
	mapDelete := userEvents.DeleteFunc
	userEvents.DeleteFunc = func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		if u, ok := e.Object.(*scimv1.ScimUser); ok {
			audit.userDeleted(u)
		}
		mapDelete(ctx, e, q)
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("scimgroupbinding").
		For(&scimv1.ScimGroupBinding{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&scimv1.ScimUser{}, userEvents).
		Watches(&scimv1.ScimGroup{}, enqueueBoth(fan.groupToBindings, specChanged)).
		Watches(&corev1.Namespace{}, enqueueBoth(fan.namespaceToBindings, namespaceChanged)).
		Watches(&rbacv1.RoleBinding{}, enqueueBoth(labelValue(scimv1.BindingLabel), nil)).
		Watches(&rbacv1.ClusterRoleBinding{}, enqueueBoth(labelValue(scimv1.BindingLabel), nil)).
		WithOptions(controller.Options{MaxConcurrentReconciles: bindingWorkers}).
		Complete(bindings)
	if err != nil {
		return fmt.Errorf("setting up ScimGroupBinding controller: %w", err)
	}

	users := &ScimUserReconciler{reader: reader, writer: mgr.GetClient(), opts: opts, members: members, recorder: recorder}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("scimuser").
		For(&scimv1.ScimUser{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&scimv1.ScimGroup{}, enqueueBoth(fan.groupToUsers, specChanged)).
		Watches(&scimv1.ScimGroupBinding{}, enqueueBoth(fan.bindingToUsers, accessChanged))
	if opts.ServiceAccounts {
		b = b.Watches(&corev1.ServiceAccount{}, enqueueBoth(labelValue(scimv1.UserLabel), nil))
	}
	if err := b.WithOptions(controller.Options{MaxConcurrentReconciles: userWorkers}).Complete(users); err != nil {
		return fmt.Errorf("setting up ScimUser controller: %w", err)
	}

	groups := &ScimGroupReconciler{reader: reader, writer: mgr.GetClient(), members: members, recorder: recorder}
	err = ctrl.NewControllerManagedBy(mgr).
		Named("scimgroup").
		For(&scimv1.ScimGroup{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, finalizerMissing))).
		Watches(&scimv1.ScimUser{}, enqueueBothAfter(fan.userToGroups, specChanged, groupStatusDelay)).
		Watches(&scimv1.ScimGroup{}, enqueueBothAfter(fan.groupToGroups, specChanged, groupStatusDelay)).
		Watches(&scimv1.ScimGroupBinding{}, enqueueBoth(fan.bindingToGroups, specChanged)).
		WithOptions(controller.Options{MaxConcurrentReconciles: groupWorkers}).
		Complete(groups)
	if err != nil {
		return fmt.Errorf("setting up ScimGroup controller: %w", err)
	}
	return nil
}

// finalizerMissing lets a group whose finalizer was removed by hand be reconciled again.
var finalizerMissing = predicate.NewPredicateFuncs(func(o client.Object) bool {
	return o.GetDeletionTimestamp().IsZero() && !controllerutil.ContainsFinalizer(o, scimv1.GroupFinalizer)
})
