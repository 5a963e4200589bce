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
	"fmt"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// gathered returns the metric family called name from controller-runtime's registry.
func gathered(name string) (*dto.MetricFamily, error) {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return nil, err
	}
	for _, f := range families {
		if f.GetName() == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("metric %s not registered", name)
}

func TestMetricsAreExported(t *testing.T) {
	ns := newNamespace(t, "metrics-a", nil)
	g := newGroup(t, "", "metrics-devs")
	b := newBinding(t, "", "metrics-read", g, ns.Name)
	u := newUser(t, "", "rita", g.Name) // stamped changed-at: measured
	eventually(t, "bound", expectSubjects(b.Name, ns.Name, "oidc:rita"))
	setActive(t, u, false)
	eventually(t, "revoked", expectSubjects(b.Name, ns.Name))

	eventually(t, "managed RoleBindings counted", func() error {
		f, err := gathered("kubescim_managed_bindings")
		if err != nil {
			return err
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == "RoleBinding" && m.GetGauge().GetValue() >= 1 {
				return nil
			}
		}
		return fmt.Errorf("no RoleBinding count in %v", f.GetMetric())
	})
	f, err := gathered("kubescim_rbac_propagation_seconds")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, m := range f.GetMetric() {
		counts[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
	}
	if counts["granted"] == 0 || counts["revoked"] == 0 {
		t.Errorf("propagation histogram samples: %v", counts)
	}
	if _, err := gathered("kubescim_subjects"); err != nil {
		t.Error(err)
	}
}
