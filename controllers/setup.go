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

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

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

// Controllers are the ScimGroupBinding, ScimUser and ScimGroup controllers of one manager. They
// run in terms (Run): a leader-elected replica runs one term per lease it holds, and every term
// builds its controllers afresh on the manager's shared cache, because a controller-runtime
// controller cannot be started twice.
type Controllers struct {
	mgr   manager.Manager
	opts  Options
	audit *auditor // outlives terms: it remembers deleted users for the audit log
}

// New prepares the controllers on mgr: it validates opts, registers the controllers' private
// cache indexes and the kubescim metrics, and creates the informers of every kind they watch, so
// that a standby replica keeps its cache synced and takes over without listing anything. The
// shared indexes (v1alpha1.SetupIndexes) must already be registered. Nothing reconciles until
// Run.
func New(mgr manager.Manager, opts Options) (*Controllers, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := setupControllerIndexes(ctx, mgr.GetFieldIndexer(), opts); err != nil {
		return nil, err
	}
	for _, obj := range watchedKinds(opts) {
		if _, err := mgr.GetCache().GetInformer(ctx, obj); err != nil {
			return nil, fmt.Errorf("creating the informer for %T: %w", obj, err)
		}
	}
	registerMetrics()
	return &Controllers{mgr: mgr, opts: opts, audit: newAuditor(ctrl.Log.WithName("audit"), mgr.GetClient(), opts)}, nil
}

// SetupWithManager runs the controllers whenever mgr runs, under mgr's own leader election if
// it has one. The shared indexes (v1alpha1.SetupIndexes) must already be registered on mgr.
func SetupWithManager(mgr manager.Manager, opts Options) error {
	c, err := New(mgr, opts)
	if err != nil {
		return err
	}
	return mgr.Add(manager.RunnableFunc(c.Run))
}

// watchedKinds are the kinds the controllers watch.
func watchedKinds(opts Options) []client.Object {
	kinds := []client.Object{&scimv1.ScimGroupBinding{}, &scimv1.ScimUser{}, &scimv1.ScimGroup{},
		&corev1.Namespace{}, &rbacv1.RoleBinding{}, &rbacv1.ClusterRoleBinding{}}
	if opts.ServiceAccounts {
		kinds = append(kinds, &corev1.ServiceAccount{})
	}
	return kinds
}

// Run runs one term: it builds the controllers and runs them until ctx is done or one of them
// fails, then waits for their reconciles to return and detaches their event handlers from the
// shared informers. It returns nil when ctx ended the term. It may be called again for the next
// term, but not concurrently.
func (c *Controllers) Run(ctx context.Context) error {
	term := newTermCache(c.mgr.GetCache())
	tally := newTallies()
	defer tally.clear() // a replica that stops leading reports nothing it no longer manages
	ctrls, err := c.build(term, tally)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, ctl := range ctrls {
		g.Go(func() error { return ctl.Start(gctx) })
	}
	err = g.Wait()
	if rerr := term.removeHandlers(); rerr != nil {
		ctrl.LoggerFrom(ctx).Error(rerr, "Detaching the controllers from the shared cache")
	}
	if err != nil {
		return fmt.Errorf("running the controllers: %w", err)
	}
	return nil
}

// build creates the three controllers of one term, watching src.
func (c *Controllers) build(src cache.Cache, tally *tallies) ([]controller.Controller, error) {
	mgr, opts, audit := c.mgr, c.opts, c.audit
	reader := mgr.GetClient()
	members := membership{reader: reader}
	recorder := mgr.GetEventRecorder("kubescim")
	fan := fanout{reader: reader, members: members}

	bindings := &ScimGroupBindingReconciler{reader: reader, live: mgr.GetAPIReader(), writer: mgr.GetClient(), opts: opts, members: members,
		audit: audit, recorder: recorder, tallies: tally, written: newOwnWrites(), gate: newWriteGate()}
	userEvents := enqueueRevocationsFirst(fan.userToBindings, specChanged, userRevokes)
	mapDelete := userEvents.DeleteFunc
	userEvents.DeleteFunc = func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		if u, ok := e.Object.(*scimv1.ScimUser); ok {
			audit.userDeleted(u)
		}
		mapDelete(ctx, e, q)
	}
	bindingCtl, err := c.newController(src, "scimgroupbinding", bindingWorkers, bindings,
		forObject(&scimv1.ScimGroupBinding{}, predicate.GenerationChangedPredicate{}),
		mapped(&scimv1.ScimUser{}, userEvents),
		mapped(&scimv1.ScimGroup{}, enqueueRevocationsFirst(fan.groupToBindings, specChanged, groupRevokes)),
		mapped(&corev1.Namespace{}, enqueueBoth(fan.namespaceToBindings, namespaceChanged)),
		mapped(&rbacv1.RoleBinding{}, enqueueRevocationsFirst(labelValue(scimv1.BindingLabel), nil, bindings.written.driftGrants)),
		mapped(&rbacv1.ClusterRoleBinding{}, enqueueRevocationsFirst(labelValue(scimv1.BindingLabel), nil, bindings.written.driftGrants)),
	)
	if err != nil {
		return nil, fmt.Errorf("setting up ScimGroupBinding controller: %w", err)
	}

	users := &ScimUserReconciler{reader: reader, live: mgr.GetAPIReader(), writer: mgr.GetClient(), opts: opts, members: members, recorder: recorder}
	userWatches := []watch{
		// A deactivated user's ServiceAccount goes ahead of the grants of a sync.
		mapped(&scimv1.ScimUser{}, enqueueRevocationsFirst(itself, specChanged, userRevokes)),
		mapped(&scimv1.ScimGroup{}, enqueueRevocationsFirst(fan.groupToUsers, specChanged, groupRevokes)),
		mapped(&scimv1.ScimGroupBinding{}, enqueueBoth(fan.bindingToUsers, accessChanged)),
	}
	if opts.ServiceAccounts {
		userWatches = append(userWatches, mapped(&corev1.ServiceAccount{}, enqueueBoth(labelValue(scimv1.UserLabel), nil)))
	}
	userCtl, err := c.newController(src, "scimuser", userWorkers, users, userWatches...)
	if err != nil {
		return nil, fmt.Errorf("setting up ScimUser controller: %w", err)
	}

	groups := &ScimGroupReconciler{reader: reader, writer: mgr.GetClient(), members: members, recorder: recorder}
	groupCtl, err := c.newController(src, "scimgroup", groupWorkers, groups,
		forObject(&scimv1.ScimGroup{}, predicate.Or(predicate.GenerationChangedPredicate{}, finalizerMissing)),
		mapped(&scimv1.ScimUser{}, enqueueBothAfter(fan.userToGroups, specChanged, groupStatusDelay)),
		mapped(&scimv1.ScimGroup{}, enqueueBothAfter(fan.groupToGroups, specChanged, groupStatusDelay)),
		mapped(&scimv1.ScimGroupBinding{}, enqueueBoth(fan.bindingToGroups, specChanged)),
	)
	if err != nil {
		return nil, fmt.Errorf("setting up ScimGroup controller: %w", err)
	}
	return []controller.Controller{bindingCtl, userCtl, groupCtl}, nil
}

// watch is one event source of a controller: a kind on the shared cache and how its events
// become requests.
type watch struct {
	obj        client.Object
	handler    handler.EventHandler
	predicates []predicate.Predicate
}

// mapped watches another kind, whose events h maps to the objects to reconcile.
func mapped(obj client.Object, h handler.EventHandler) watch { return watch{obj: obj, handler: h} }

// forObject watches the kind a controller reconciles: each event requests the object itself.
func forObject(obj client.Object, predicates ...predicate.Predicate) watch {
	return watch{obj: obj, handler: &handler.EnqueueRequestForObject{}, predicates: predicates}
}

// newController builds a controller that reconciles the kind of watches[0], with the logger
// controller-runtime's builder would give it. It is not added to the manager: Run starts it.
func (c *Controllers) newController(src cache.Cache, name string, workers int, r reconcile.Reconciler, watches ...watch) (controller.Controller, error) {
	gvk, err := apiutil.GVKForObject(watches[0].obj, c.mgr.GetScheme())
	if err != nil {
		return nil, err
	}
	log := c.mgr.GetLogger().WithValues("controller", name, "controllerGroup", gvk.Group, "controllerKind", gvk.Kind)
	opts := controller.Options{
		Reconciler:              r,
		MaxConcurrentReconciles: workers,
		// Every term builds a controller of the same name again.
		SkipNameValidation: ptr.To(true),
		Logger:             log,
		LogConstructor: func(req *reconcile.Request) logr.Logger {
			if req == nil {
				return log
			}
			return log.WithValues(gvk.Kind, klog.KRef(req.Namespace, req.Name), "namespace", req.Namespace, "name", req.Name)
		},
	}
	opts.DefaultFromConfig(c.mgr.GetControllerOptions())
	ctl, err := controller.NewUnmanaged(name, opts)
	if err != nil {
		return nil, err
	}
	for _, w := range watches {
		if err := ctl.Watch(source.Kind(src, w.obj, w.handler, w.predicates...)); err != nil {
			return nil, fmt.Errorf("watching %T: %w", w.obj, err)
		}
	}
	return ctl, nil
}

// finalizerMissing lets a group whose finalizer was removed by hand be reconciled again.
var finalizerMissing = predicate.NewPredicateFuncs(func(o client.Object) bool {
	return o.GetDeletionTimestamp().IsZero() && !controllerutil.ContainsFinalizer(o, scimv1.GroupFinalizer)
})
