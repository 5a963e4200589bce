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

package scimserver

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	tokensRejectedGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kubescim_scim_tokens_rejected",
		Help: "Bearer tokens refused at the last load of their source (file or secret) for being shorter than 32 bytes.",
	}, []string{"source"})
	authFailuresTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubescim_scim_auth_failures_total",
		Help: "SCIM requests without a valid bearer token, by result: unauthorized (401) or throttled " +
			"(429, the client address failed too often).",
	}, []string{"result"})

	registerMetricsOnce sync.Once
)

func registerMetrics() {
	registerMetricsOnce.Do(func() {
		metrics.Registry.MustRegister(tokensRejectedGauge, authFailuresTotal)
	})
}
