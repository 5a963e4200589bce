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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

func TestJudge(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	member := func(lastContact *time.Time, heartbeat time.Duration) *scimv1.ScimMember {
		sm := &scimv1.ScimMember{}
		if lastContact != nil {
			sm.Status.LastContact = &metav1.Time{Time: *lastContact}
		}
		if heartbeat != 0 {
			sm.Status.Heartbeat = &metav1.Duration{Duration: heartbeat}
		}
		return sm
	}
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	for _, tc := range []struct {
		name       string
		sm         *scimv1.ScimMember
		wantReason string // "" = in good standing
		wantStale  time.Time
	}{
		{name: "never reported", sm: member(nil, time.Second), wantReason: scimv1.NeverConnectedReason},
		{name: "fresh", sm: member(ago(time.Second), 10*time.Second), wantStale: now.Add(29 * time.Second)},
		{name: "two heartbeats late", sm: member(ago(25*time.Second), 10*time.Second), wantStale: now.Add(5 * time.Second)},
		{name: "three heartbeats late", sm: member(ago(30*time.Second), 10*time.Second), wantReason: scimv1.MemberSilentReason},
		{name: "no heartbeat reported: the default", sm: member(ago(29*time.Second), 0), wantStale: now.Add(time.Second)},
		{name: "sub-second heartbeat floored at lastContact's resolution", sm: member(ago(2*time.Second), 200*time.Millisecond),
			wantStale: now.Add(time.Second)},
		{name: "sub-second heartbeat, silent", sm: member(ago(3*time.Second), 200*time.Millisecond), wantReason: scimv1.MemberSilentReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen time.Time
			if tc.sm.Status.LastContact != nil {
				seen = tc.sm.Status.LastContact.Time
			}
			v := judge(tc.sm, seen, now)
			switch {
			case tc.wantReason == "" && v.silent != nil:
				t.Fatalf("silent %+v, want in good standing", v.silent)
			case tc.wantReason == "" && !v.staleAt.Equal(tc.wantStale):
				t.Fatalf("stale at %s, want %s", v.staleAt, tc.wantStale)
			case tc.wantReason != "" && (v.silent == nil || v.silent.Reason != tc.wantReason || v.silent.Status != metav1.ConditionFalse ||
				v.silent.Type != scimv1.HubConnectedCondition):
				t.Fatalf("verdict %+v, want HubConnected False %s", v.silent, tc.wantReason)
			}
		})
	}
}

// A member's clock does not decide: once the hub has seen a lastContact appear, staleness runs
// from then, and a lastContact in the future counts as now.
func TestSeenAtUsesTheHubsClock(t *testing.T) {
	r := &Registry{seen: map[string]sighting{}, marked: map[string]bool{}}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	sm := &scimv1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: "skewed"}}
	sm.Status.LastContact = &metav1.Time{Time: now.Add(-time.Hour)}
	if got := r.seenAt(sm, now); !got.Equal(now.Add(-time.Hour + time.Second)) {
		t.Errorf("first sight: %s, want the end of the member's lastContact second", got)
	}
	sm.Status.LastContact = &metav1.Time{Time: now.Add(-59 * time.Minute)} // a clock an hour behind
	later := now.Add(time.Minute)
	if got := r.seenAt(sm, later); !got.Equal(later) {
		t.Errorf("new report: %s, want when the hub saw it (%s)", got, later)
	}
	if got := r.seenAt(sm, later.Add(time.Hour)); !got.Equal(later) {
		t.Errorf("same report again: %s, want %s", got, later)
	}
	ahead := &scimv1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: "ahead"}}
	ahead.Status.LastContact = &metav1.Time{Time: now.Add(time.Hour)}
	if got := r.seenAt(ahead, now); !got.Equal(now) {
		t.Errorf("a lastContact in the future: %s, want now", got)
	}
}
