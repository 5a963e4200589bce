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
	"net/url"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/hack/tcpproxy"
)

// termLog records the terms several candidates run, and any moment two ran at once.
type termLog struct {
	mu       sync.Mutex
	running  map[string]bool
	started  map[string]int
	overlaps []string
}

func newTermLog() *termLog { return &termLog{running: map[string]bool{}, started: map[string]int{}} }

// term is a candidate's term: it runs until its context ends, then takes linger to stop, as
// reconciles that are still finishing do.
func (l *termLog) term(name string, linger time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		l.mu.Lock()
		for other, running := range l.running {
			if running {
				l.overlaps = append(l.overlaps, fmt.Sprintf("%s started while %s was running", name, other))
			}
		}
		l.running[name] = true
		l.started[name]++
		l.mu.Unlock()
		<-ctx.Done()
		time.Sleep(linger)
		l.mu.Lock()
		l.running[name] = false
		l.mu.Unlock()
		return nil
	}
}

// leading checks that name runs its n-th term.
func (l *termLog) leading(name string, n int) func() error {
	return func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.running[name] || l.started[name] != n {
			return fmt.Errorf("%s is not running its term %d (running %v, terms started %v)", name, n, l.running, l.started)
		}
		return nil
	}
}

func (l *termLog) checkNoOverlap(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.overlaps) > 0 {
		t.Errorf("two terms ran at once: %v", l.overlaps)
	}
}

// candidate is a running elected.
type candidate struct {
	stop context.CancelFunc
	done chan struct{} // closed when Start has returned
	err  error
}

func startElected(t *testing.T, e *elected) *candidate {
	ctx, cancel := context.WithCancel(context.Background())
	c := &candidate{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.err = e.Start(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-c.done
	})
	return c
}

// stopped stops c and waits for Start to return.
func (c *candidate) stopped(t *testing.T) {
	t.Helper()
	c.stop()
	select {
	case <-c.done:
	case <-time.After(waitTimeout):
		t.Fatal("the candidate did not stop")
	}
	if c.err != nil {
		t.Fatalf("Start: %v", c.err)
	}
}

func (c *candidate) returned() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// A replica that loses the API server stops its controllers but keeps running and rejoins the
// election; a replica that shuts down releases the lease only after its controllers stopped, so
// that no two terms ever overlap.
func TestLeaderElectionSurvivesLosingTheAPIServer(t *testing.T) {
	api, err := url.Parse(testCfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := tcpproxy.New(api.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	viaProxy := rest.CopyConfig(testCfg)
	viaProxy.Host = "https://" + proxy.Addr()

	le := LeaderElection{Namespace: "default", Name: "election-test", LeaseDuration: 4 * time.Second,
		RenewDeadline: 2 * time.Second, RetryPeriod: 250 * time.Millisecond}
	terms := newTermLog()
	// b lingers longer than a successor needs to acquire a released lease (about a second).
	const bLinger = 2 * time.Second
	a, err := newElected(viaProxy, le, terms.term("a", 0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := newElected(testCfg, le, terms.term("b", bLinger))
	if err != nil {
		t.Fatal(err)
	}

	candA := startElected(t, a)
	eventually(t, "a leads", terms.leading("a", 1))
	candB := startElected(t, b)

	proxy.Cut() // a can no longer renew
	eventually(t, "b takes over from a, which lost the API server", terms.leading("b", 1))
	if candA.returned() {
		t.Fatal("a stopped campaigning when it lost the API server")
	}

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	candB.stopped(t)
	eventually(t, "a, back in the election, takes over from b", terms.leading("a", 2))

	candA.stopped(t)
	var lease coordinationv1.Lease
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: le.Namespace, Name: le.Name}, &lease); err != nil {
		t.Fatal(err)
	}
	if h := lease.Spec.HolderIdentity; h != nil && *h != "" {
		t.Errorf("a did not release the lease on shutdown: held by %s", *h)
	}
	terms.checkNoOverlap(t)
}

// A term that fails gives the lease up and the replica campaigns again.
func TestLeaderElectionRetriesAFailedTerm(t *testing.T) {
	le := LeaderElection{Namespace: "default", Name: "election-retry-test", LeaseDuration: 4 * time.Second,
		RenewDeadline: 2 * time.Second, RetryPeriod: 250 * time.Millisecond}
	var mu sync.Mutex
	attempts := 0
	e, err := newElected(testCfg, le, func(ctx context.Context) error {
		mu.Lock()
		attempts++
		n := attempts
		mu.Unlock()
		if n == 1 {
			return errors.New("cache did not sync")
		}
		<-ctx.Done()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cand := startElected(t, e)
	eventually(t, "a second term after the failed one", func() error {
		mu.Lock()
		defer mu.Unlock()
		if attempts < 2 {
			return fmt.Errorf("%d terms so far", attempts)
		}
		return nil
	})
	if cand.returned() {
		t.Fatal("the replica stopped campaigning after a failed term")
	}
}

func TestLeaderElectionRejectsBadDurations(t *testing.T) {
	_, err := newElected(testCfg, LeaderElection{Namespace: "default", Name: "x",
		LeaseDuration: time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 100 * time.Millisecond}, nil)
	if err == nil {
		t.Fatal("a renew deadline longer than the lease duration was accepted")
	}
}
