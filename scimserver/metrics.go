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
	"net/http"
	"strconv"
	"sync"
	"time"

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
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubescim_scim_requests_total",
		Help: "SCIM requests answered, by route template (e.g. /Users/{id}; other for paths that name no endpoint), method and status code.",
	}, []string{"route", "method", "code"})
	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kubescim_scim_request_duration_seconds",
		Help:    "Time to answer a SCIM request, by route template and method.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "method"})
	rateLimitedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubescim_scim_rate_limited_total",
		Help: "Authenticated SCIM requests refused with 429 by the rate limit of their token, by token name.",
	}, []string{"token"})

	registerMetricsOnce sync.Once
)

func registerMetrics() {
	registerMetricsOnce.Do(func() {
		metrics.Registry.MustRegister(tokensRejectedGauge, authFailuresTotal, requestsTotal, requestDuration, rateLimitedTotal)
	})
}

// metricMethods are the methods that label request metrics as themselves; any other is "other".
var metricMethods = map[string]bool{
	http.MethodGet: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodHead: true, http.MethodOptions: true,
}

// observeRequest counts a request answered with code after d, labelled by its route template.
func observeRequest(route, method string, code int, d time.Duration) {
	if !metricMethods[method] {
		method = "other"
	}
	requestsTotal.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	requestDuration.WithLabelValues(route, method).Observe(d.Seconds())
}
