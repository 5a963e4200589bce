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
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	managedBindingsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kubescim_managed_bindings",
		Help: "RoleBindings and ClusterRoleBindings kubescim manages, by kind.",
	}, []string{"kind"})
	subjectsGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kubescim_subjects",
		Help: "Subjects written into managed bindings, summed over all of them.",
	})
	propagationSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kubescim_rbac_propagation_seconds",
		Help: "Time from a SCIM change (the user's changed-at annotation, or the observed deletion) " +
			"to the RBAC write that applies it, per subject and change.",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"change"})
	accessChangesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubescim_access_changes_total",
		Help: "Subjects added to or removed from managed bindings.",
	}, []string{"change"})

	registerMetricsOnce sync.Once
)

func registerMetrics() {
	registerMetricsOnce.Do(func() {
		metrics.Registry.MustRegister(managedBindingsGauge, subjectsGauge, propagationSeconds, accessChangesTotal)
	})
}

// bindingTally is what one ScimGroupBinding currently contributes to the gauges.
type bindingTally struct {
	roleBindings, clusterRoleBindings, subjects int
}

// tallies keeps per-binding contributions so the gauges are exact sums without listing.
type tallies struct {
	mu  sync.Mutex
	per map[string]bindingTally
}

func newTallies() *tallies { return &tallies{per: map[string]bindingTally{}} }

// clear forgets every binding and zeroes the gauges, when the controllers stop leading.
func (t *tallies) clear() {
	t.mu.Lock()
	t.per = map[string]bindingTally{}
	t.mu.Unlock()
	t.set("", bindingTally{})
}

// set records binding's contribution (zero removes it) and refreshes the gauges.
func (t *tallies) set(binding string, tally bindingTally) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tally == (bindingTally{}) {
		delete(t.per, binding)
	} else {
		t.per[binding] = tally
	}
	var sum bindingTally
	for _, v := range t.per {
		sum.roleBindings += v.roleBindings
		sum.clusterRoleBindings += v.clusterRoleBindings
		sum.subjects += v.subjects
	}
	managedBindingsGauge.WithLabelValues("RoleBinding").Set(float64(sum.roleBindings))
	managedBindingsGauge.WithLabelValues("ClusterRoleBinding").Set(float64(sum.clusterRoleBindings))
	subjectsGauge.Set(float64(sum.subjects))
}
