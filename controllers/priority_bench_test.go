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
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Scale of the sync that BenchmarkRevocationDuringSync runs under: KUBESCIM_BENCH_SYNC_USERS
// new users pushed by 8 clients, each joining two of the fixture's groups (every join is a
// grant in every namespace of the group's binding).
var benchSyncUsers = envInt("KUBESCIM_BENCH_SYNC_USERS", 800)

const benchSyncClients = 8

// syncRounds numbers the sync rounds across the benchmark's runs (b.N=1 first, then the rest),
// so that every round pushes users of its own.
var syncRounds atomic.Int64

// BenchmarkRevocationDuringSync measures a deactivation that arrives while an IdP's initial
// sync is still pushing users: the time from the active=false write to the user's removal from
// every RoleBinding of its two groups, with the sync's grants queued for the same bindings.
// Revocations go ahead of grants (priority.go); without that they wait behind the backlog.
// It reports p50 and p99 in milliseconds and the sync's creates per second.
func BenchmarkRevocationDuringSync(b *testing.B) {
	ctx := context.Background()
	benchOnce.Do(func() { benchFixture, benchErr = setupRevocationFixture(ctx) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	f := benchFixture
	var samples []time.Duration
	var synced int
	var syncTime time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		i := (n*53 + 11) % benchUsers
		sync := startSync(ctx, int(syncRounds.Add(1)))
		// Deactivate once the sync's backlog is building, as in an IdP's first push.
		<-sync.started
		b.StartTimer()
		start := time.Now()
		if err := f.setActive(ctx, i, false); err != nil {
			b.Fatal(err)
		}
		if err := f.waitBound(ctx, i, false); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
		b.StopTimer()
		if err := sync.wait(); err != nil {
			b.Fatal(err)
		}
		synced += benchSyncUsers
		syncTime += sync.took
		if err := f.setActive(ctx, i, true); err != nil {
			b.Fatal(err)
		}
		if err := f.waitBoundWithin(ctx, i, true, 3*time.Minute); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportLatency(b, samples)
	b.ReportMetric(float64(synced)/syncTime.Seconds(), "sync-creates/s")
}

// benchSync is one round of sync load: benchSyncUsers creates by benchSyncClients clients.
type benchSync struct {
	started chan struct{}
	done    chan error
	took    time.Duration
}

func (s *benchSync) wait() error { return <-s.done }

// startSync pushes round's users in the background; started is closed after the first tenth.
func startSync(ctx context.Context, round int) *benchSync {
	s := &benchSync{started: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		begin := time.Now()
		eg, egctx := errgroup.WithContext(ctx)
		eg.SetLimit(benchSyncClients)
		for k := range benchSyncUsers {
			if k == benchSyncUsers/10 {
				close(s.started)
			}
			eg.Go(func() error {
				var memberOf []string
				for _, g := range benchGroupsOf(k) {
					memberOf = append(memberOf, fmt.Sprintf("bench-group-%03d", g))
				}
				name := fmt.Sprintf("bench-sync-%03d-%05d", round, k)
				return k8s.Create(egctx, &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: name},
					Spec: scimv1.ScimUserSpec{UserName: name, Active: ptr.To(true), MemberOf: memberOf}})
			})
		}
		err := eg.Wait()
		s.took = time.Since(begin)
		s.done <- err
	}()
	return s
}
