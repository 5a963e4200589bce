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

package authz

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	decisionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubescim_authz_decisions_total",
		Help: "SubjectAccessReviews the authorization webhook answered, by decision (denied, no_opinion, error).",
	}, []string{"decision"})
	decisionSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kubescim_authz_decision_duration_seconds",
		Help:    "Time the authorization webhook took to answer a SubjectAccessReview, decoding and encoding included.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
	})
	refusedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubescim_authz_refused_requests_total",
		Help: "Requests to the authorization webhook refused before a decision, by reason (unauthenticated, bad_request).",
	}, []string{"reason"})

	registerMetricsOnce sync.Once
)

func registerMetrics() {
	registerMetricsOnce.Do(func() {
		metrics.Registry.MustRegister(decisionsTotal, decisionSeconds, refusedTotal)
	})
}
