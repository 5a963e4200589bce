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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	lastContactSeconds = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kubescim_fleet_hub_last_contact_seconds",
		Help: "Seconds since this member last reached the hub (0 while connected).",
	})
	fencedGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kubescim_fleet_fenced",
		Help: "1 while this member has removed every grant because the hub was unreachable for longer than the grace period.",
	})
	mirrorLagSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kubescim_fleet_mirror_lag_seconds",
		Help:    "Time from a SCIM write on the hub to this member's copy of the identity.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	})
	registerOnce sync.Once
)

func registerMetrics() {
	registerOnce.Do(func() {
		metrics.Registry.MustRegister(lastContactSeconds, fencedGauge, mirrorLagSeconds)
	})
}

func setContactMetrics(sinceContact time.Duration, connected, fenced bool) {
	if connected {
		sinceContact = 0
	}
	lastContactSeconds.Set(sinceContact.Seconds())
	if fenced {
		fencedGauge.Set(1)
	} else {
		fencedGauge.Set(0)
	}
}
