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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// TestGrantWindow moves a fake clock across a binding's notBefore and expiresAt.
func TestGrantWindow(t *testing.T) {
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakePassiveClock(start)
	b := &scimv1.ScimGroupBinding{Spec: scimv1.ScimGroupBindingSpec{
		NotBefore: &metav1.Time{Time: start.Add(time.Hour)},
		ExpiresAt: &metav1.Time{Time: start.Add(3 * time.Hour)},
	}}
	steps := []struct {
		at     time.Duration
		reason string // "" grants
		next   time.Duration
	}{
		{0, scimv1.NotYetActiveReason, time.Hour},
		{time.Hour, "", 2 * time.Hour},
		{2 * time.Hour, "", time.Hour},
		{3 * time.Hour, scimv1.ExpiredReason, 0},
		{30 * 24 * time.Hour, scimv1.ExpiredReason, 0}, // long downtime: still expired
	}
	for _, s := range steps {
		clk.SetTime(start.Add(s.at))
		why, next := grantWindow(b, clk.Now())
		reason := ""
		if why != nil {
			reason = why.reason
		}
		if reason != s.reason || next != s.next {
			t.Errorf("at +%s: got refusal %q, next %s; want %q, %s", s.at, reason, next, s.reason, s.next)
		}
	}
	if why, next := grantWindow(&scimv1.ScimGroupBinding{}, start); why != nil || next != 0 {
		t.Errorf("binding without a window: got %v, %s; want it granting with no timer", why, next)
	}
}

// A binding's window opens and closes by its timer alone: no other change wakes it. The window
// is a few seconds wide, at second precision (RFC 3339 in the API).
func TestGrantWindowOnTheAPIServer(t *testing.T) {
	const partition = "" // the main manager
	ns := newNamespace(t, "window-team", nil).Name
	group := newGroup(t, partition, "window-group")
	u := newUser(t, partition, "window@example.com", group.Name)
	subject := "oidc:" + u.Spec.UserName

	opens := time.Now().Add(4 * time.Second).Truncate(time.Second)
	b := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "window", Labels: suiteLabels(partition)},
		Spec: scimv1.ScimGroupBindingSpec{Group: group.Spec.DisplayName, RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole},
			Namespaces: []string{ns}, NotBefore: &metav1.Time{Time: opens}, ExpiresAt: &metav1.Time{Time: opens.Add(5 * time.Second)}},
	}
	mustCreate(t, b)
	eventually(t, "NotYetActive before notBefore", expectCondition(b, scimv1.ReadyCondition, metav1.ConditionFalse, scimv1.NotYetActiveReason))
	if time.Now().Before(opens) {
		if err := expectSubjects(b.Name, ns)(); err != nil {
			t.Fatalf("before notBefore: %v", err)
		}
	}
	eventually(t, "granted once notBefore is reached", expectSubjects(b.Name, ns, subject))
	if time.Now().Before(opens) {
		t.Fatal("granted before notBefore")
	}
	eventually(t, "Expired after expiresAt", expectCondition(b, scimv1.ReadyCondition, metav1.ConditionFalse, scimv1.ExpiredReason))
	eventually(t, "no grant after expiresAt", expectSubjects(b.Name, ns))
	eventually(t, "the user may not read in the namespace", expectAllowed(subject, "get", "configmaps", ns, false))
}

// Controller downtime never extends access: a binding that expires while no controller runs
// loses its grants at the first pass of the next one.
func TestBindingExpiredWhileControllersWereStopped(t *testing.T) {
	const partition = "expiry"
	runTerm := startTermsManager(t, partition, Options{BindableRoles: []RoleName{{"ClusterRole", readerRole}}})

	ns := newNamespace(t, "expiry-a", nil).Name
	group := newGroup(t, partition, "expiry-readers")
	newUser(t, partition, "eve@example.com", group.Name)
	b := &scimv1.ScimGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "expiry-read", Labels: suiteLabels(partition)},
		Spec: scimv1.ScimGroupBindingSpec{Group: group.Spec.DisplayName, Namespaces: []string{ns},
			RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole}},
	}
	mustCreate(t, b)

	stop := runTerm()
	eventually(t, "granted", expectAllowed("eve@example.com", "get", "configmaps", ns, true))
	stop()
	// Set while nothing runs, so that no timer of a running controller can be what revokes.
	expires := time.Now().Add(2 * time.Second).Truncate(time.Second)
	update(t, b, func(b *scimv1.ScimGroupBinding) { b.Spec.ExpiresAt = &metav1.Time{Time: expires} })
	eventually(t, "expiresAt passes while no controller runs", func() error {
		if time.Now().Before(expires.Add(time.Second)) {
			return fmt.Errorf("not yet %s", expires)
		}
		return nil
	})
	if err := expectAllowed("eve@example.com", "get", "configmaps", ns, true)(); err != nil {
		t.Fatalf("something other than the controllers revoked the access: %v", err)
	}

	stop = runTerm()
	defer stop()
	eventually(t, "revoked at the first pass after the restart", expectAllowed("eve@example.com", "get", "configmaps", ns, false))
	eventually(t, "Expired", expectCondition(b, scimv1.ReadyCondition, metav1.ConditionFalse, scimv1.ExpiredReason))
}
