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

package patch

import (
	"errors"
	"testing"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// TestApplyUnqualifiedExtensionPaths: a PATCH path naming an attribute only the enterprise
// extension has works like its URN-qualified form, as in Microsoft's documented Entra requests
// ("path": "manager" with an array value; removal by `manager[value eq "..."]`).
func TestApplyUnqualifiedExtensionPaths(t *testing.T) {
	const stored = `{"userName":"alice","displayName":"Alice","` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`
	tests := []struct {
		name, ops, want string // want: the enterprise extension after the patch ("" for none)
	}{
		{"Entra's add manager with an array value", `[{"op":"Add","path":"manager","value":[{"$ref":null,"value":"m-2"}]}]`,
			`{"department":"R&D","manager":{"value":"m-2"}}`},
		{"replace manager with a bare id", `[{"op":"Replace","path":"manager","value":"m-3"}]`, `{"department":"R&D","manager":{"value":"m-3"}}`},
		{"remove manager by value filter", `[{"op":"Remove","path":"manager[value eq \"m-1\"]"}]`, `{"department":"R&D"}`},
		{"the qualified value filter alike", `[{"op":"Remove","path":"` + ent + `:manager[value eq \"m-1\"]"}]`, `{"department":"R&D"}`},
		{"a filter matching another manager changes nothing", `[{"op":"Remove","path":"manager[value eq \"m-9\"]"}]`,
			`{"department":"R&D","manager":{"value":"m-1"}}`},
		{"sub-attribute path", `[{"op":"replace","path":"manager.value","value":"m-4"}]`, `{"department":"R&D","manager":{"value":"m-4"}}`},
		{"other extension attributes", `[{"op":"replace","path":"department","value":"Ops"},{"op":"add","path":"employeeNumber","value":701984}]`,
			`{"department":"Ops","employeeNumber":"701984","manager":{"value":"m-1"}}`},
		{"remove the last extension attribute", `[{"op":"remove","path":"department"},{"op":"remove","path":"manager"}]`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply(schema.UserResource, obj(t, stored), ops(t, tt.ops))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if got[ent] != nil {
					t.Errorf("extension = %v, want none", got[ent])
				}
				return
			}
			if !jsonEqual(t, got[ent], tt.want) {
				t.Errorf("extension = %v\nwant %s", got[ent], tt.want)
			}
			if got["displayName"] != "Alice" {
				t.Errorf("core displayName = %v", got["displayName"])
			}
		})
	}
	// A core attribute of the same name wins; a name no schema has is still invalidPath.
	got, err := Apply(schema.UserResource, obj(t, stored), ops(t, `[{"op":"replace","path":"displayName","value":"Al"}]`))
	if err != nil || got["displayName"] != "Al" {
		t.Errorf("core displayName: %v, %v", got["displayName"], err)
	}
	_, err = Apply(schema.UserResource, obj(t, stored), ops(t, `[{"op":"replace","path":"bogus","value":"x"}]`))
	var se *schema.Error
	if !errors.As(err, &se) || se.ScimType != schema.ScimTypeInvalidPath {
		t.Errorf("unknown path: %v, want invalidPath", err)
	}
}
