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
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers/registry"
)

// The hub marks a member that stops reporting silent within three heartbeats (its lastContact
// is to the second, so at least three seconds), with an Event and the metric, and connected again
// when it reports; a member that joined but never reported is NeverConnected.
func TestHubMarksSilentMember(t *testing.T) {
	hub := startHub(t)
	hub.runRegistry(t)
	if err := hub.k8s.Create(context.Background(), &scimv1.ScimMember{ObjectMeta: metaName("never")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a member that never reported", hub.expectConnected("never", metav1.ConditionFalse, scimv1.NeverConnectedReason))

	opts := Options{Heartbeat: 200 * time.Millisecond, GracePeriod: time.Hour}
	m := startMember(t, hub, "quiet", opts)
	eventually(t, "the member reports", hub.expectConnected("quiet", metav1.ConditionTrue, "Heartbeat"))
	// The member's first beat also creates its own ScimMember, which can take seconds on a
	// loaded machine while its caches fill; the steady heartbeat starts after it.
	eventually(t, "the member's first beat is over", m.expectLocal(scimv1.HubConnectedCondition, metav1.ConditionTrue, "Heartbeat"))
	eventually(t, "the member reports steadily", hub.expectConnected("quiet", metav1.ConditionTrue, "Heartbeat"))
	consistently(t, "a member that reports is never marked silent", 4*time.Second,
		hub.expectConnected("quiet", metav1.ConditionTrue, "Heartbeat"))
	if err := expectSilentMetric("quiet", 0); err != nil {
		t.Error(err)
	}

	m.stop()
	stopped := time.Now()
	eventually(t, "the stopped member is silent", hub.expectConnected("quiet", metav1.ConditionFalse, scimv1.MemberSilentReason))
	// Three heartbeats floored at lastContact's resolution (3s), plus up to a second of it.
	if took := time.Since(stopped); took > 10*time.Second {
		t.Errorf("marked silent %s after the member stopped, want within about 4s", took.Round(time.Millisecond))
	}
	t.Logf("member stopped -> marked silent on the hub: %s", time.Since(stopped).Round(time.Millisecond))
	eventually(t, "an Event says so", expectEvent(hub.k8s, "quiet", scimv1.MemberSilentReason, stopped))
	eventually(t, "the metric says so", func() error { return expectSilentMetric("quiet", 1) })

	restarted := time.Now()
	m.start(t, hub, opts)
	eventually(t, "the restarted member is connected again", hub.expectConnected("quiet", metav1.ConditionTrue, "Heartbeat"))
	eventually(t, "an Event says it reports again", expectEvent(hub.k8s, "quiet", "MemberReported", restarted))
	eventually(t, "the metric clears", func() error { return expectSilentMetric("quiet", 0) })
	if err := hub.expectConnected("never", metav1.ConditionFalse, scimv1.NeverConnectedReason)(); err != nil {
		t.Error(err)
	}
}

// runRegistry runs the hub side of the fleet, as a hub's kubescim does, until the end of t.
func (h *testHub) runRegistry(t testing.TB) {
	t.Helper()
	mgr, err := ctrl.NewManager(h.cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub registry: %v", err)
		}
	})
}

// expectConnected checks the HubConnected condition of a member's ScimMember on the hub.
func (h *testHub) expectConnected(member string, status metav1.ConditionStatus, reason string) func() error {
	return func() error {
		var sm scimv1.ScimMember
		if err := h.k8s.Get(context.Background(), client.ObjectKey{Name: member}, &sm); err != nil {
			return err
		}
		c := meta.FindStatusCondition(sm.Status.Conditions, scimv1.HubConnectedCondition)
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("hub's ScimMember %s HubConnected: %+v, want %s/%s", member, c, status, reason)
		}
		return nil
	}
}

// expectSilentMetric checks kubescim_fleet_member_silent{member} in the process's registry.
func expectSilentMetric(member string, want float64) error {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return err
	}
	for _, f := range families {
		if f.GetName() != "kubescim_fleet_member_silent" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "member" && l.GetValue() == member {
					if got := m.GetGauge().GetValue(); got != want {
						return fmt.Errorf("kubescim_fleet_member_silent{member=%q} = %v, want %v", member, got, want)
					}
					return nil
				}
			}
		}
	}
	return fmt.Errorf("no kubescim_fleet_member_silent{member=%q}", member)
}
