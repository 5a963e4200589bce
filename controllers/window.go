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
	"time"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// grantWindow says whether b grants at now, and how long until its next boundary (notBefore or
// expiresAt) changes that: 0 when no boundary lies ahead. Outside the window the refusal is
// returned; a binding expired while the controller was down is refused at its first pass, so
// downtime never extends access.
func grantWindow(b *scimv1.ScimGroupBinding, now time.Time) (*refusal, time.Duration) {
	spec := &b.Spec
	if spec.ExpiresAt != nil && !now.Before(spec.ExpiresAt.Time) {
		return &refusal{reason: scimv1.ExpiredReason,
			message: fmt.Sprintf("expired at %s, so nothing is granted", spec.ExpiresAt.UTC().Format(time.RFC3339))}, 0
	}
	if spec.NotBefore != nil && now.Before(spec.NotBefore.Time) {
		return &refusal{reason: scimv1.NotYetActiveReason,
				message: fmt.Sprintf("not active before %s, so nothing is granted yet", spec.NotBefore.UTC().Format(time.RFC3339))},
			spec.NotBefore.Sub(now)
	}
	if spec.ExpiresAt != nil {
		return nil, spec.ExpiresAt.Sub(now)
	}
	return nil, 0
}
