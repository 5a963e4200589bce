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

package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
	"github.com/kubescim/kubescim/controllers/authz"
	"github.com/kubescim/kubescim/controllers/fleet"
	"github.com/kubescim/kubescim/controllers/registry"
	"github.com/kubescim/kubescim/scimserver"
)

// shutdownMargin is what a shutdown may take beyond the SCIM drain at its longest: stopping the
// controllers, releasing the Lease (two API calls of up to 1.5s each while etcd is away),
// closing the caches. The chart's terminationGracePeriodSeconds covers drain and margin.
const shutdownMargin = 5 * time.Second

// run starts one manager with the components c selects until ctx is done. The components share
// the manager's cache, so the SCIM server and the controllers hold one copy of every object.
// Nothing here needs the API server: while it is unreachable the process waits, /healthz ok and
// /readyz failing, and the SCIM port answers 503.
func run(ctx context.Context, c *config, restConfig *rest.Config) error {
	log := ctrl.Log.WithName("setup")
	mgr, err := newManager(c, restConfig)
	if err != nil {
		return err
	}
	if err := scimv1alpha1.SetupIndexesFor(ctx, mgr.GetFieldIndexer(), c.components.scim, c.components.controllers); err != nil {
		return fmt.Errorf("registering indexes: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("cache", cacheSynced(mgr.GetCache())); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}
	if c.components.controllers {
		if err := addControllers(mgr, c, restConfig); err != nil {
			return err
		}
	}
	if c.components.scim {
		if err := addSCIM(mgr, c); err != nil {
			return err
		}
	}
	log.Info("Starting kubescim", "components", c.componentList, "leaderElection", c.components.controllers && c.leaderElect,
		"fleetMember", c.fleet.ClusterName)
	return mgr.Start(ctx)
}

// newManager builds the manager the components share.
func newManager(c *config, restConfig *rest.Config) (manager.Manager, error) {
	byObject := controllers.CacheByObject(c.access)
	if c.components.scim {
		// The SCIM server reads its token Secret, and no other, from the cache.
		maps.Copy(byObject, scimserver.CacheByObject(c.scim))
	}
	if c.components.controllers && !c.components.scim {
		byObject[&scimv1alpha1.ScimUser{}] = cache.ByObject{Transform: controllers.SlimUser}
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:         scheme,
		MapperProvider: newRESTMapper,
		Cache: cache.Options{
			ByObject: byObject,
			// Nothing kubescim does reads managedFields (it writes RBAC by server-side apply,
			// and an update without them keeps the server's): they are a third or more of
			// each cached object's JSON.
			DefaultTransform: cache.TransformStripManagedFields(),
		},
		Metrics:                 metricsserver.Options{BindAddress: c.metricsAddr},
		HealthProbeBindAddress:  c.probeAddr,
		GracefulShutdownTimeout: ptr.To(scimserver.MaxDrain(c.scim.ShutdownTimeout) + shutdownMargin),
		// No controller-runtime leader election: it ends the process when the lease is lost.
		// The controllers elect their own leader instead (controllers.Elected).
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	return mgr, nil
}

// addControllers runs the controllers, on the Lease holder only with --leader-elect.
func addControllers(mgr manager.Manager, c *config, restConfig *rest.Config) error {
	ctrls, err := controllers.New(mgr, c.access)
	if err != nil {
		return fmt.Errorf("setting up controllers: %w", err)
	}
	var r manager.Runnable = manager.RunnableFunc(ctrls.Run)
	if c.leaderElect {
		if r, err = ctrls.Elected(restConfig, c.election); err != nil {
			return fmt.Errorf("setting up leader election: %w", err)
		}
	}
	if err := mgr.Add(r); err != nil {
		return fmt.Errorf("adding controllers: %w", err)
	}
	if c.fleet.Hub != nil {
		// A fleet member: the controllers reconcile copies of the hub's identities.
		if err := fleet.Setup(mgr, c.fleet); err != nil {
			return fmt.Errorf("setting up member mode: %w", err)
		}
	} else {
		// A hub (or a standalone cluster, with no ScimMembers): mark members that stop reporting.
		ok, err := registry.Permitted(context.Background(), restConfig)
		switch {
		case err != nil || !ok:
			mgr.GetLogger().Info("The fleet registry is off: this identity may not watch ScimMembers and write their status (RBAC from an older chart)",
				"error", fmt.Sprint(err))
		default:
			if err := registry.SetupWithManager(mgr); err != nil {
				return fmt.Errorf("setting up the fleet registry: %w", err)
			}
		}
	}
	if !c.authzWebhookEnabled() {
		return nil
	}
	// Every replica answers the API server from its own cache, leader or not.
	opts := c.authz
	opts.Access = c.access
	webhook, err := authz.New(mgr, opts)
	if err != nil {
		return fmt.Errorf("setting up the authorization webhook: %w", err)
	}
	if err := mgr.Add(webhook); err != nil {
		return fmt.Errorf("adding the authorization webhook: %w", err)
	}
	return nil
}

// addSCIM serves SCIM on this replica; /readyz waits for its tokens and cache.
func addSCIM(mgr manager.Manager, c *config) error {
	scim, err := scimserver.New(mgr, c.scim)
	if err != nil {
		return fmt.Errorf("creating SCIM server: %w", err)
	}
	if err := scim.AddToManager(mgr); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("scim", scim.ReadyCheck); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}
	return nil
}

// cacheSynced is ready once the manager's cache has synced, so that a controller replica is
// ready to take over as soon as it is elected.
func cacheSynced(c cache.Cache) healthz.Checker {
	var synced atomic.Bool
	return func(req *http.Request) error {
		if synced.Load() {
			return nil
		}
		ctx, cancel := context.WithTimeout(req.Context(), 100*time.Millisecond)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return errors.New("cache not synced yet")
		}
		synced.Store(true)
		return nil
	}
}
