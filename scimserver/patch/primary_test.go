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

// TestApplyPrimary: RFC 7644 §3.5.2, a value made primary makes the other values of its
// attribute non-primary, whichever way the operation reaches it; two made primary at once is
// invalidValue.
func TestApplyPrimary(t *testing.T) {
	const stored = `{"userName":"alice","emails":[
		{"value":"alice@work.example","type":"work","primary":true},
		{"value":"alice@home.example","type":"home"}],
		"phoneNumbers":[{"value":"111","primary":true}]}`
	tests := []struct {
		name, ops   string
		attr, want  string // the attribute after the patch
		wantInvalid bool
	}{
		{"add a new primary value", `[{"op":"add","path":"emails","value":[{"value":"new@example.com","type":"other","primary":true}]}]`,
			"emails", `[{"value":"alice@work.example","type":"work","primary":false},{"value":"alice@home.example","type":"home"},
				{"value":"new@example.com","type":"other","primary":true}]`, false},
		{"replace primary through a value filter (Entra's string boolean)", `[{"op":"Replace","path":"emails[type eq \"home\"].primary","value":"True"}]`,
			"emails", `[{"value":"alice@work.example","type":"work","primary":false},{"value":"alice@home.example","type":"home","primary":true}]`, false},
		{"replace an element through a value filter", `[{"op":"replace","path":"emails[type eq \"home\"]","value":{"primary":true}}]`,
			"emails", `[{"value":"alice@work.example","type":"work","primary":false},{"value":"alice@home.example","type":"home","primary":true}]`, false},
		{"path-less add", `[{"op":"add","value":{"emails":[{"value":"x@example.com","primary":true}]}}]`,
			"emails", `[{"value":"alice@work.example","type":"work","primary":false},{"value":"alice@home.example","type":"home"},
				{"value":"x@example.com","primary":true}]`, false},
		{"replace the whole attribute", `[{"op":"replace","path":"emails","value":[{"value":"a@example.com"},{"value":"b@example.com","primary":true}]}]`,
			"emails", `[{"value":"a@example.com"},{"value":"b@example.com","primary":true}]`, false},
		{"the last operation wins", `[{"op":"replace","path":"emails[type eq \"home\"].primary","value":true},
				{"op":"add","path":"emails","value":{"value":"last@example.com","primary":true}}]`,
			"emails", `[{"value":"alice@work.example","type":"work","primary":false},{"value":"alice@home.example","type":"home","primary":false},
				{"value":"last@example.com","primary":true}]`, false},
		{"any multi-valued attribute with primary", `[{"op":"add","path":"phoneNumbers","value":{"value":"222","type":"mobile","primary":true}}]`,
			"phoneNumbers", `[{"value":"111","primary":false},{"value":"222","type":"mobile","primary":true}]`, false},
		{"unrelated changes keep the primary", `[{"op":"replace","path":"emails[type eq \"home\"].value","value":"h@example.com"}]`,
			"emails", `[{"value":"alice@work.example","type":"work","primary":true},{"value":"h@example.com","type":"home"}]`, false},
		{"two primaries added at once", `[{"op":"add","path":"emails","value":[{"value":"a@x.example","primary":true},{"value":"b@x.example","primary":true}]}]`,
			"", "", true},
		{"two primaries in a replace", `[{"op":"replace","path":"emails","value":[{"value":"a@x.example","primary":true},{"value":"b@x.example","primary":"true"}]}]`,
			"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply(schema.UserResource, obj(t, stored), ops(t, tt.ops))
			if tt.wantInvalid {
				var se *schema.Error
				if !errors.As(err, &se) || se.ScimType != schema.ScimTypeInvalidValue {
					t.Fatalf("err %v, want invalidValue", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got[tt.attr], tt.want) {
				t.Errorf("%s = %v\nwant %s", tt.attr, got[tt.attr], tt.want)
			}
		})
	}
}
