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
	"os"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// The Lease of the controllers' election lives in the release namespace ("system" is the
// chart's name for it); resourcelock.LeaseLock only gets, creates and updates it, and a create
// cannot be limited by name.
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=system,resources=leases,verbs=create
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=system,resources=leases,resourceNames=kubescim.scim.kubescim.io,verbs=get;update

// Defaults of LeaderElection, the usual ones of Kubernetes components.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// LeaderElection configures the Lease that decides which replica runs the controllers. A
// replica that crashes holding the lease is replaced after at most LeaseDuration plus
// RetryPeriod; one that is shut down releases it at once.
type LeaderElection struct {
	// Namespace and Name locate the Lease.
	Namespace, Name string
	// LeaseDuration is how long the lease is valid after its last renewal.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader retries renewing before it stops its controllers.
	// It must be shorter than LeaseDuration, so that they stop before anyone else may start.
	RenewDeadline time.Duration
	// RetryPeriod is the interval between attempts to acquire or renew the lease.
	RetryPeriod time.Duration
}

func (le LeaderElection) withDefaults() LeaderElection {
	if le.LeaseDuration == 0 {
		le.LeaseDuration = DefaultLeaseDuration
	}
	if le.RenewDeadline == 0 {
		le.RenewDeadline = DefaultRenewDeadline
	}
	if le.RetryPeriod == 0 {
		le.RetryPeriod = DefaultRetryPeriod
	}
	return le
}

// elected runs terms of the controllers only while this replica holds the Lease. Unlike
// controller-runtime's leader election, which ends the process when the lease is lost, losing
// the lease here only ends the term: the replica keeps everything else (the SCIM server, the
// cache) running and rejoins the election.
type elected struct {
	lease  LeaderElection
	config leaderelection.LeaderElectionConfig
	run    func(context.Context) error
}

var _ manager.LeaderElectionRunnable = &elected{}

// Elected returns a manager Runnable that runs c's terms under the lease le. The Lease lives in
// the replica's own namespace; the Helm chart grants access to it with a Role there.
func (c *Controllers) Elected(cfg *rest.Config, le LeaderElection) (manager.Runnable, error) {
	return newElected(cfg, le, c.Run)
}

// newElected runs term whenever the lease le is held, through the API server at cfg.
func newElected(cfg *rest.Config, le LeaderElection, term func(context.Context) error) (*elected, error) {
	le = le.withDefaults()
	if le.Namespace == "" || le.Name == "" {
		return nil, errors.New("leader election needs the namespace and name of its Lease")
	}
	cfg = rest.CopyConfig(cfg)
	rest.AddUserAgent(cfg, "leader-election")
	// A renewal that hangs must fail in time for the next attempt before the deadline.
	cfg.Timeout = max(le.RenewDeadline/2, time.Second)
	client, err := coordinationv1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the leader election client: %w", err)
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("naming this replica for leader election: %w", err)
	}
	e := &elected{
		lease: le,
		run:   term,
		config: leaderelection.LeaderElectionConfig{
			Lock: &resourcelock.LeaseLock{
				LeaseMeta:  metav1.ObjectMeta{Namespace: le.Namespace, Name: le.Name},
				Client:     client,
				LockConfig: resourcelock.ResourceLockConfig{Identity: host + "_" + string(uuid.NewUUID())},
			},
			Name:          le.Name,
			LeaseDuration: le.LeaseDuration,
			RenewDeadline: le.RenewDeadline,
			RetryPeriod:   le.RetryPeriod,
			// Released only once the term's controllers have stopped (see campaign).
			ReleaseOnCancel: true,
		},
	}
	// Validates the durations, so that bad flags fail at startup.
	if _, err := leaderelection.NewLeaderElector(e.withCallbacks(leaderelection.LeaderCallbacks{
		OnStartedLeading: func(context.Context) {}, OnStoppedLeading: func() {},
	})); err != nil {
		return nil, fmt.Errorf("configuring leader election: %w", err)
	}
	return e, nil
}

// NeedLeaderElection is false: the manager starts this at once, and it elects by itself.
func (e *elected) NeedLeaderElection() bool { return false }

// Start campaigns for the lease and runs a term of the controllers each time it is won, until
// ctx is done. It returns only then, never because of the API server.
func (e *elected) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("leader-election").WithValues(
		"lease", klog.KRef(e.lease.Namespace, e.lease.Name),
		"identity", e.config.Lock.Identity())
	ctx = ctrl.LoggerInto(ctx, log)
	backoff := e.config.RetryPeriod
	for ctx.Err() == nil {
		err := e.campaign(ctx)
		if ctx.Err() != nil {
			break
		}
		if err == nil {
			log.Info("Lost the lease; the controllers stopped and this replica rejoins the election")
			backoff = e.config.RetryPeriod
			continue
		}
		// A term that failed (a cache that cannot sync, say) leaves the lease to another replica
		// for a while, then tries again.
		log.Error(err, "The controllers stopped; rejoining the election", "after", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, e.config.LeaseDuration)
	}
	log.Info("Stopped campaigning")
	return nil
}

// campaign waits for the lease, runs one term while it is held, and returns once the term's
// controllers have stopped: because the lease is lost, or ctx is done (the lease is then
// released, but only after the controllers stopped, so that no successor overlaps with them).
func (e *elected) campaign(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx)
	electionCtx, endElection := context.WithCancel(context.WithoutCancel(ctx))
	defer endElection()

	var (
		mu      sync.Mutex
		over    bool // the elector has returned: no term may start any more
		leading bool // a term is running; it ends the election itself
		terms   sync.WaitGroup
		termErr error
	)
	startTerm := func(leaseCtx context.Context) {
		mu.Lock()
		if over || ctx.Err() != nil {
			mu.Unlock()
			return
		}
		leading = true
		terms.Add(1)
		mu.Unlock()
		defer terms.Done()
		defer endElection() // releases the lease: the controllers have stopped

		termCtx, cancel := context.WithCancel(leaseCtx)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		log.Info("Acquired the lease; starting the controllers")
		termErr = e.run(termCtx)
		log.Info("Controllers stopped")
	}
	// Shutting down before the lease is won ends the campaign; during a term, the term does.
	stopCampaign := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !leading {
			endElection()
		}
	})
	defer stopCampaign()

	elector, err := leaderelection.NewLeaderElector(e.withCallbacks(leaderelection.LeaderCallbacks{
		OnStartedLeading: startTerm,
		OnStoppedLeading: func() {},
	}))
	if err != nil {
		return err
	}
	elector.Run(electionCtx)

	mu.Lock()
	over = true
	mu.Unlock()
	terms.Wait()
	return termErr
}

func (e *elected) withCallbacks(cb leaderelection.LeaderCallbacks) leaderelection.LeaderElectionConfig {
	c := e.config
	c.Callbacks = cb
	return c
}
