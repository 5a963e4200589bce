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
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkFleetRevocation measures a deactivation written on the hub (the write the SCIM
// server makes) until the authorizer of every member denies the user (SubjectAccessReviews
// polled against each member's API server), with a hub and two members on this machine, and the
// same deactivation in a standalone cluster for comparison. Each op deactivates, waits for the
// deny everywhere, then reactivates and waits for access again (not measured).
//
//	go test ./controllers/fleet -run '^$' -bench FleetRevocation -benchtime 20x
func BenchmarkFleetRevocation(b *testing.B) {
	opts := Options{Heartbeat: 10 * time.Second, GracePeriod: time.Hour}
	b.Run("standalone", func(b *testing.B) {
		standalone := startMember(b, nil, "standalone", opts)
		standalone.bind(b, "devs")
		// The standalone cluster is its own "hub": identities are written where RBAC is.
		benchRevocation(b, &testHub{k8s: standalone.k8s}, []*testMember{standalone})
	})
	b.Run("members=2", func(b *testing.B) {
		hub := startHub(b)
		members := []*testMember{startMember(b, hub, "east", opts), startMember(b, hub, "west", opts)}
		for _, m := range members {
			m.bind(b, "devs")
		}
		benchRevocation(b, hub, members)
	})
}

func benchRevocation(b *testing.B, hub *testHub, members []*testMember) {
	hub.group(b, "devs")
	hub.user(b, "alice", "devs")
	waitAll := func(want bool) {
		var wg sync.WaitGroup
		for _, m := range members {
			wg.Go(func() {
				for {
					if ok, err := m.allowed("alice"); err == nil && ok == want {
						return
					}
				}
			})
		}
		wg.Wait()
	}
	waitAll(true)
	var samples []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		hub.setActive(b, "alice", false)
		waitAll(false)
		samples = append(samples, time.Since(start))
		b.StopTimer()
		hub.setActive(b, "alice", true)
		waitAll(true)
		b.StartTimer()
	}
	b.StopTimer()
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	pct := func(p float64) float64 {
		return float64(samples[int(p*float64(len(samples)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
