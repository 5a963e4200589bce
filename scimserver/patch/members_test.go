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
	"reflect"
	"strconv"
	"testing"

	"github.com/kubescim/kubescim/scimserver/schema"
)

func TestExtractMemberOps(t *testing.T) {
	tests := []struct {
		name, ops string
		members   []MemberOp
		rest      []Operation
	}{
		{"Entra add with $ref null",
			`[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"},{"value":"u2","display":"Bob"}]}]`,
			[]MemberOp{{AddMembers, []string{"u1", "u2"}}}, nil},
		{"Okta add with display, no type",
			`[{"op":"add","path":"members","value":[{"value":"89bb1940","display":"test.user@okta.local"}]}]`,
			[]MemberOp{{AddMembers, []string{"89bb1940"}}}, nil},
		{"single member object and type",
			`[{"op":"add","path":"members","value":{"value":"u1","type":"User","$ref":"https://h/Users/u1"}}]`,
			[]MemberOp{{AddMembers, []string{"u1"}}}, nil},
		{"bare id string (MS reference collection)",
			`[{"op":"add","path":"members","value":"string id 1"}]`,
			[]MemberOp{{AddMembers, []string{"string id 1"}}}, nil},
		{"Okta remove by value filter",
			`[{"op":"remove","path":"members[value eq \"89bb1940\"]"}]`,
			[]MemberOp{{RemoveMembers, []string{"89bb1940"}}}, nil},
		{"remove by or of value filters",
			`[{"op":"remove","path":"members[value eq \"a\" or value eq \"b\" or VALUE EQ \"c\"]"}]`,
			[]MemberOp{{RemoveMembers, []string{"a", "b", "c"}}}, nil},
		{"Entra remove with value array removes only those",
			`[{"op":"Remove","path":"members","value":[{"value":"u1"},{"value":"u2"}]}]`,
			[]MemberOp{{RemoveMembers, []string{"u1", "u2"}}}, nil},
		{"remove without value removes all",
			`[{"op":"remove","path":"members"}]`,
			[]MemberOp{{RemoveAllMembers, nil}}, nil},
		{"replace sets exactly",
			`[{"op":"replace","path":"members","value":[{"value":"u3"}]}]`,
			[]MemberOp{{ReplaceMembers, []string{"u3"}}}, nil},
		{"replace with empty list removes all",
			`[{"op":"replace","path":"members","value":[]}]`,
			[]MemberOp{{RemoveAllMembers, nil}}, nil},
		{"replace null (parsed as remove) removes all",
			`[{"op":"replace","path":"members","value":null}]`,
			[]MemberOp{{RemoveAllMembers, nil}}, nil},
		{"remove with empty value array changes nothing",
			`[{"op":"remove","path":"members","value":[]}]`,
			nil, nil},
		{"path-less replace splits members from displayName",
			`[{"op":"replace","value":{"id":"g1","displayName":"Ops","members":[{"value":"u1"}]}}]`,
			[]MemberOp{{ReplaceMembers, []string{"u1"}}},
			[]Operation{{OpReplace, "", map[string]any{"id": "g1", "displayName": "Ops"}}}},
		{"path-less add with only members",
			`[{"op":"add","value":{"Members":[{"value":"u1"}]}}]`,
			[]MemberOp{{AddMembers, []string{"u1"}}}, nil},
		{"URN-qualified members path and order kept",
			`[{"op":"replace","path":"displayName","value":"X"},{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:Group:members","value":[{"value":"u1"}]},{"op":"remove","path":"MEMBERS[value eq \"u0\"]"}]`,
			[]MemberOp{{AddMembers, []string{"u1"}}, {RemoveMembers, []string{"u0"}}},
			[]Operation{{OpReplace, "displayName", "X"}}},
		{"other operations untouched",
			`[{"op":"replace","path":"displayName","value":"X"},{"op":"replace","value":{"externalId":"e"}}]`,
			nil,
			[]Operation{{OpReplace, "displayName", "X"}, {OpReplace, "", map[string]any{"externalId": "e"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rest, members, err := ExtractMemberOps(ops(t, tt.ops))
			if err != nil {
				t.Fatalf("ExtractMemberOps: %v", err)
			}
			if !reflect.DeepEqual(members, tt.members) {
				t.Errorf("members = %v, want %v", members, tt.members)
			}
			if len(rest) != len(tt.rest) {
				t.Fatalf("rest = %v, want %v", rest, tt.rest)
			}
			for i := range rest {
				if rest[i].Op != tt.rest[i].Op || rest[i].Path != tt.rest[i].Path || !equal(rest[i].Value, tt.rest[i].Value) {
					t.Errorf("rest[%d] = %#v, want %#v", i, rest[i], tt.rest[i])
				}
			}
		})
	}
}

func TestExtractMemberOpsErrors(t *testing.T) {
	tests := []struct{ name, ops, scimType string }{
		{"member without value", `[{"op":"add","path":"members","value":[{"display":"x"}]}]`, schema.ScimTypeInvalidValue},
		{"member value not a string", `[{"op":"add","path":"members","value":[{"value":7}]}]`, schema.ScimTypeInvalidValue},
		{"empty member value", `[{"op":"add","path":"members","value":[{"value":""}]}]`, schema.ScimTypeInvalidValue},
		{"filter other than value eq", `[{"op":"remove","path":"members[type eq \"User\"]"}]`, schema.ScimTypeInvalidFilter},
		{"and of value filters", `[{"op":"remove","path":"members[value eq \"a\" and value eq \"b\"]"}]`, schema.ScimTypeInvalidFilter},
		{"replace through a members filter", `[{"op":"replace","path":"members[value eq \"a\"]","value":{"value":"b"}}]`, schema.ScimTypeInvalidPath},
		{"members sub-attribute", `[{"op":"replace","path":"members.value","value":"a"}]`, schema.ScimTypeInvalidPath},
		{"path-less members not a list of members", `[{"op":"add","value":{"members":[1]}}]`, schema.ScimTypeInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ExtractMemberOps(ops(t, tt.ops))
			var se *schema.Error
			if !errors.As(err, &se) || se.Status != 400 || se.ScimType != tt.scimType {
				t.Errorf("err = %v, want 400 %s", err, tt.scimType)
			}
		})
	}
}

func TestExtractThenApplyGroup(t *testing.T) {
	// Okta's group rename: members split off, the rest applies with the echoed id ignored.
	rest, members, err := ExtractMemberOps(ops(t, `[{"op":"replace","value":{"id":"g-1","displayName":"New","members":[{"value":"u1","display":"U"}]}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 1 || members[0].Kind != ReplaceMembers {
		t.Fatalf("members = %v", members)
	}
	got, err := Apply(schema.GroupResource, obj(t, `{"id":"g-1","displayName":"Old"}`), rest)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, got, `{"displayName":"New"}`) {
		t.Errorf("got %v", got)
	}
}

func TestExtractMemberOpsLargeList(t *testing.T) {
	value := make([]any, 3000)
	for i := range value {
		value[i] = map[string]any{"value": "u" + strconv.Itoa(i)}
	}
	_, members, err := ExtractMemberOps([]Operation{{Op: OpAdd, Path: "members", Value: value}})
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 1 || len(members[0].IDs) != 3000 || members[0].IDs[2999] != "u2999" {
		t.Errorf("got %d ops", len(members))
	}
}
