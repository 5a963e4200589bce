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
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// silentAfter is how many heartbeats a member may miss before the hub calls it silent: one late
// report (a slow API server, a retry) is normal, three in a row are not.
const silentAfter = 3

// resolution is the precision of status.lastContact (a metav1.Time is written to the second):
// a member that reports more often still shows a new lastContact only once a second.
const resolution = time.Second

// defaultHeartbeat is assumed for a member that does not report its heartbeat (an older
// kubescim): the member's default.
const defaultHeartbeat = 10 * time.Second

// verdict is what the hub concludes about one member at one moment.
type verdict struct {
	// silent is the condition to write, nil while the member's own report stands.
	silent *metav1.Condition
	// staleAt is when a member in good standing becomes silent.
	staleAt time.Time
}

// judge decides whether sm is silent at now, given that its last report was seen at seen (the
// hub's clock; see Registry.seenAt).
func judge(sm *scimv1.ScimMember, seen, now time.Time) verdict {
	st := sm.Status
	if st.LastContact == nil {
		return verdict{silent: &metav1.Condition{Type: scimv1.HubConnectedCondition, Status: metav1.ConditionFalse,
			Reason: scimv1.NeverConnectedReason, ObservedGeneration: sm.Generation,
			Message: "the member has never reported to the hub: is kubescim running there with this cluster name and the join kubeconfig?"}}
	}
	heartbeat := defaultHeartbeat
	if st.Heartbeat != nil && st.Heartbeat.Duration > 0 {
		heartbeat = st.Heartbeat.Duration
	}
	staleAt := seen.Add(silentAfter * max(heartbeat, resolution))
	if now.Before(staleAt) {
		return verdict{staleAt: staleAt}
	}
	return verdict{silent: &metav1.Condition{Type: scimv1.HubConnectedCondition, Status: metav1.ConditionFalse,
		Reason: scimv1.MemberSilentReason, ObservedGeneration: sm.Generation,
		Message: fmt.Sprintf("no report from the member for %s (it reports every %s; last contact %s): it may be down or cut off from the hub",
			now.Sub(seen).Round(time.Millisecond), heartbeat, st.LastContact.UTC().Format(time.RFC3339))}}
}
