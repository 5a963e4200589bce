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
package fleet

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// mirrorWorkers reconciles several identities at once: each is one write in the member.
const mirrorWorkers = 8

// waitForHub is how long the mirror waits for the hub's cache to sync: indefinitely in
// practice, so that a member started while the hub is away waits (and applies its policy)
// instead of exiting.
const waitForHub = 100 * 365 * 24 * time.Hour

// Setup adds member mode to mgr, the member cluster's manager: a cache of the hub's
// identities, a mirror controller per kind and the contact loop. The member's own controllers
// (controllers.New) run on mgr as in a standalone cluster, on the copies.
func Setup(mgr manager.Manager, opts Options) error {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return err
	}
	registerMetrics()
	hub, err := cluster.New(opts.Hub, func(o *cluster.Options) {
		o.Scheme = mgr.GetScheme()
		o.Cache = cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	})
	if err != nil {
		return fmt.Errorf("connecting to the hub: %w", err)
	}
	if err := mgr.Add(hub); err != nil {
		return err
	}
	hubLive, err := client.New(opts.Hub, client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return fmt.Errorf("connecting to the hub: %w", err)
	}
	c := newContact(opts, hubLive, mgr.GetClient(), mgr.GetAPIReader(), mgr.GetEventRecorder("kubescim"))
	for _, k := range kinds {
		m := &mirror{kind: k, cluster: opts.ClusterName, hub: hub.GetCache(), hubLive: hubLive, local: mgr.GetClient(), contact: c}
		c.mirrors = append(c.mirrors, m)
		ctl, err := controller.New("mirror-"+strings.ToLower(k.name), mgr, controller.Options{
			Reconciler: m, MaxConcurrentReconciles: mirrorWorkers, CacheSyncTimeout: waitForHub,
			// Names repeat when one process sets up member mode again (tests, a restarted manager).
			SkipNameValidation: ptr.To(true)})
		if err != nil {
			return err
		}
		if err := ctl.Watch(source.Kind(hub.GetCache(), k.newObj(), &handler.EnqueueRequestForObject{})); err != nil {
			return fmt.Errorf("watching the hub's %ss: %w", k.name, err)
		}
		if err := ctl.Watch(source.Kind(mgr.GetCache(), k.newObj(), &handler.EnqueueRequestForObject{}, copyChanged(opts.ClusterName))); err != nil {
			return fmt.Errorf("watching the member's %ss: %w", k.name, err)
		}
	}
	return mgr.Add(c)
}

// copyChanged passes the member's copies when something the mirror writes changed (not their
// status, which the member's controllers write), and every deletion.
func copyChanged(cluster string) predicate.Predicate {
	mine := func(o client.Object) bool { return o.GetLabels()[scimv1.MirroredLabel] == cluster }
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return mine(e.Object) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return true },
		GenericFunc: func(e event.GenericEvent) bool { return mine(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, n := e.ObjectOld, e.ObjectNew
			return (mine(o) || mine(n)) && (o.GetGeneration() != n.GetGeneration() ||
				!maps.Equal(o.GetLabels(), n.GetLabels()) || !maps.Equal(o.GetAnnotations(), n.GetAnnotations()) ||
				!n.GetDeletionTimestamp().IsZero())
		},
	}
}
