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

package store

// Preconditions are a conditional write's conditions on the version (resourceVersion) of the
// object it replaces. The zero value writes whatever the version.
type Preconditions struct {
	// IfMatch, when set, reports whether the write may replace version. A conflict is then a
	// PreconditionFailed refusal and never retried: the caller named the version it replaces.
	IfMatch func(version string) bool
	// IfNoneMatch, when set, reports whether version is one the write must not replace.
	IfNoneMatch func(version string) bool
}

// IsZero reports whether p sets no condition.
func (p Preconditions) IsZero() bool { return p.IfMatch == nil && p.IfNoneMatch == nil }

// check refuses with PreconditionFailed when p fails against version.
func (p Preconditions) check(version string) error {
	if p.IfMatch != nil && !p.IfMatch(version) {
		return preconditionError()
	}
	if p.IfNoneMatch != nil && p.IfNoneMatch(version) {
		return preconditionError()
	}
	return nil
}
