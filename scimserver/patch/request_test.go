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
	"strings"
	"testing"

	"github.com/kubescim/kubescim/scimserver/schema"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name, body string
		want       []Operation
	}{
		{"Entra capitalised ops",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Replace","path":"title","value":"tester"},
				{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@x"},
				{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}`,
			[]Operation{{OpReplace, "title", "tester"}, {OpAdd, `emails[type eq "work"].value`, "a@x"},
				{OpRemove, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", nil}}},
		{"Okta path-less replace",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
			[]Operation{{OpReplace, "", map[string]any{"active": false}}}},
		{"schemas missing, lower-case operations key",
			`{"operations":[{"op":"REPLACE","path":" active ","value":"False"}]}`,
			[]Operation{{OpReplace, "active", "False"}}},
		{"extra and misspelled URNs next to PatchOp",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:patchop","urn:bogus"],"Operations":[{"op":"add","path":"title","value":"x"}]}`,
			[]Operation{{OpAdd, "title", "x"}}},
		{"schemas as a single string",
			`{"schemas":"urn:ietf:params:scim:api:messages:2.0:PatchOp","Operations":[{"op":"add","path":"title","value":"x"}]}`,
			[]Operation{{OpAdd, "title", "x"}}},
		{"replace null is remove, add null is dropped",
			`{"Operations":[{"op":"replace","path":"title","value":null},{"op":"add","path":"nickName","value":null}]}`,
			[]Operation{{OpRemove, "title", nil}}},
		{"remove with value kept (Entra members)",
			`{"Operations":[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]}`,
			[]Operation{{OpRemove, "members", []any{map[string]any{"value": "u1"}}}}},
		{"extra keys in an operation ignored (MS reference)",
			`{"Operations":[{"name":"addMember","op":"add","path":"members","value":"string id 1"}],"id":"g1"}`,
			[]Operation{{OpAdd, "members", "string id 1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRequest([]byte(tt.body), 10)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d ops %v, want %v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i].Op != tt.want[i].Op || got[i].Path != tt.want[i].Path || !equal(got[i].Value, tt.want[i].Value) {
					t.Errorf("op %d = %#v, want %#v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseRequestNumbersAsJSONNumber(t *testing.T) {
	ops, err := ParseRequest([]byte(`{"Operations":[{"op":"add","path":"x","value":12345678901234567890}]}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := ops[0].Value.(interface{ String() string }); !ok || s.String() != "12345678901234567890" {
		t.Errorf("value = %#v, want exact json.Number", ops[0].Value)
	}
}

func TestParseRequestErrors(t *testing.T) {
	many := `{"Operations":[` + strings.TrimSuffix(strings.Repeat(`{"op":"add","path":"title","value":"x"},`, 11), ",") + `]}`
	tests := []struct {
		name, body, scimType, mention string
	}{
		{"not JSON", `{"Operations":`, schema.ScimTypeInvalidSyntax, ""},
		{"array body", `[]`, schema.ScimTypeInvalidSyntax, ""},
		{"wrong schema", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"add","path":"title","value":"x"}]}`, schema.ScimTypeInvalidSyntax, "PatchOp"},
		{"missing Operations", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, schema.ScimTypeInvalidSyntax, "Operations"},
		{"empty Operations", `{"Operations":[]}`, schema.ScimTypeInvalidSyntax, "Operations"},
		{"unknown op", `{"Operations":[{"op":"move","path":"title","value":"x"}]}`, schema.ScimTypeInvalidSyntax, "move"},
		{"missing op", `{"Operations":[{"path":"title","value":"x"}]}`, schema.ScimTypeInvalidSyntax, ""},
		{"too many", many, schema.ScimTypeInvalidValue, "10"},
		{"remove without path", `{"Operations":[{"op":"remove"}]}`, schema.ScimTypeNoTarget, ""},
		{"add without value", `{"Operations":[{"op":"add","path":"title"}]}`, schema.ScimTypeInvalidValue, ""},
		{"replace without value", `{"Operations":[{"op":"replace","path":"title"}]}`, schema.ScimTypeInvalidValue, ""},
		{"path-less replace null", `{"Operations":[{"op":"replace","value":null}]}`, schema.ScimTypeInvalidValue, ""},
		{"op index in detail", `{"Operations":[{"op":"add","path":"a","value":1},{"op":"bad"}]}`, schema.ScimTypeInvalidSyntax, "operation 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRequest([]byte(tt.body), 10)
			var se *schema.Error
			if !errors.As(err, &se) || se.Status != 400 || se.ScimType != tt.scimType {
				t.Fatalf("err = %v, want 400 %s", err, tt.scimType)
			}
			if !strings.Contains(se.Detail, tt.mention) {
				t.Errorf("detail %q does not mention %q", se.Detail, tt.mention)
			}
		})
	}
}
