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

package e2e

import "testing"

// TestFleetWalkthrough runs the README's fleet walkthrough against `kubescim dev --members 2`:
// one SCIM push to the hub grants in both members, one deactivation revokes in both.
func TestFleetWalkthrough(t *testing.T) {
	runWalkthrough(t, "fleet-walkthrough", []string{"yes", "yes", "no", "no"}, "--members", "2")
}
