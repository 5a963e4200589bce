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

package v1alpha1

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestObjectNameFor(t *testing.T) {
	cases := []struct{ key, prefix string }{
		{"alice@example.com", "alice-example-com-"},
		{"Alice@Example.com", "alice-example-com-"},
		{"  spaces  and  tabs\t", "spaces-and-tabs-"},
		{"日本語", "x-"},
		{strings.Repeat("a", 300), strings.Repeat("a", maxSlugLength) + "-"},
		{"--dashes--", "dashes-"},
	}
	for _, tc := range cases {
		name := ObjectNameFor(tc.key)
		if !strings.HasPrefix(name, tc.prefix) {
			t.Errorf("ObjectNameFor(%q) = %q, want prefix %q", tc.key, name, tc.prefix)
		}
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			t.Errorf("ObjectNameFor(%q) = %q is not a valid object name: %v", tc.key, name, errs)
		}
	}
	if ObjectNameFor("Bob") != ObjectNameFor("bOB") {
		t.Error("names must not depend on case, so the API server enforces case-insensitive uniqueness")
	}
	if ObjectNameFor("bob.smith") == ObjectNameFor("bob-smith") {
		t.Error("keys with the same slug must still get different names")
	}
}
