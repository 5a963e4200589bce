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

package registry

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// One series per member: a fleet has tens of clusters, not thousands.
	memberSilent = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kubescim_fleet_member_silent",
		Help: "1 while the hub marks this member silent (HubConnected False: it has not reported for three heartbeats, or never).",
	}, []string{"member"})
	registerOnce sync.Once
)

func registerMetrics() {
	registerOnce.Do(func() { metrics.Registry.MustRegister(memberSilent) })
}

func setSilent(member string, silent bool) {
	v := 0.0
	if silent {
		v = 1
	}
	memberSilent.WithLabelValues(member).Set(v)
}
