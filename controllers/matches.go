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
	"strings"

	corev1 "k8s.io/api/core/v1"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// maxSkippedInEvent bounds how many newly skipped groups one Event names.
const maxSkippedInEvent = 5

// recordMatches puts the groups the binding selects into its status (bounded) and sends a
// Warning Event naming the groups that are skipped now and were not before.
func (r *ScimGroupBindingReconciler) recordMatches(b *scimv1.ScimGroupBinding, matches []scimv1.GroupMatch) {
	st := &b.Status
	wasSkipped := map[string]string{}
	for _, m := range st.MatchedGroups {
		wasSkipped[m.Group] = m.Skipped
	}
	var news []string
	for _, m := range matches {
		if m.Skipped != "" && wasSkipped[m.Group] != m.Skipped {
			news = append(news, fmt.Sprintf("%s: %s", m.Group, m.Skipped))
		}
	}
	if len(news) > 0 {
		more := ""
		if len(news) > maxSkippedInEvent {
			more = fmt.Sprintf(" (and %d more)", len(news)-maxSkippedInEvent)
			news = news[:maxSkippedInEvent]
		}
		r.recorder.Eventf(b, nil, corev1.EventTypeWarning, "GroupSkipped", "Bind", "%s",
			truncate("Matched groups granted nothing: "+strings.Join(news, "; ")+more, maxEventNote))
	}
	st.MatchedGroupCount = int32(len(matches))
	st.MatchedGroups = nil
	if len(matches) > 0 {
		st.MatchedGroups = append([]scimv1.GroupMatch(nil), matches[:min(len(matches), scimv1.MaxMatchedGroupsListed)]...)
	}
}

// groupsFoundMessage is the GroupFound condition's message.
func groupsFoundMessage(matches []scimv1.GroupMatch) string {
	if len(matches) == 1 {
		return "group found"
	}
	return fmt.Sprintf("%d groups found", len(matches))
}

// skippedNote is appended to the Ready message when matched groups are skipped.
func skippedNote(matches []scimv1.GroupMatch) string {
	n := 0
	for _, m := range matches {
		if m.Skipped != "" {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d of %d matched groups skipped (status.matchedGroups says why)", n, len(matches))
}
