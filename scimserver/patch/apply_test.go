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
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kubescim/kubescim/scimserver/schema"
)

const ent = schema.EnterpriseUserURN

func obj(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

// ops decodes an Operations array through ParseRequest, as the HTTP layer does.
func ops(t testing.TB, operations string) []Operation {
	t.Helper()
	o, err := ParseRequest([]byte(`{"schemas":["`+schema.PatchOpURN+`"],"Operations":`+operations+`}`), 0)
	if err != nil {
		t.Fatalf("ParseRequest(%s): %v", operations, err)
	}
	return o
}

func jsonEqual(t testing.TB, got any, want string) bool {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var gv, wv any
	_ = json.Unmarshal(g, &gv)
	if err := json.Unmarshal([]byte(want), &wv); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	return equal(gv, wv)
}

// storedUser is a user as the HTTP layer renders it before patching.
const storedUser = `{"schemas":["` + schema.UserURN + `","` + ent + `"],"id":"u-1","externalId":"ext-1","userName":"alice@example.com",
	"name":{"givenName":"Alice","familyName":"Jensen"},"active":true,
	"emails":[{"value":"alice@example.com","type":"work","primary":true}],
	"groups":[{"value":"g-1","display":"Admins"}],
	"meta":{"resourceType":"User","created":"2024-01-01T00:00:00Z","lastModified":"2024-01-01T00:00:00Z","version":"W/\"7\""},
	"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`

// base is storedUser after Normalize: what Apply returns for no-op patches.
const base = `"externalId":"ext-1","userName":"alice@example.com","name":{"givenName":"Alice","familyName":"Jensen"},"active":true,
	"emails":[{"value":"alice@example.com","type":"work","primary":true}]`

func TestApplyUser(t *testing.T) {
	tests := []struct {
		name, ops, want string
	}{
		{"replace simple attribute", `[{"op":"replace","path":"userName","value":"ryan3"}]`,
			`{"externalId":"ext-1","userName":"ryan3","name":{"givenName":"Alice","familyName":"Jensen"},"active":true,
			  "emails":[{"value":"alice@example.com","type":"work","primary":true}],"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"Entra capitalised Replace with boolean string", `[{"op":"Replace","path":"active","value":"False"}]`,
			`{` + strings.Replace(base, `"active":true`, `"active":false`, 1) + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"Okta path-less replace active false", `[{"op":"replace","value":{"active":false}}]`,
			`{` + strings.Replace(base, `"active":true`, `"active":false`, 1) + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"boolean string lower case", `[{"op":"replace","path":"active","value":"true"}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"add on single-valued attribute replaces", `[{"op":"Add","path":"title","value":"CTO"},{"op":"add","path":"userName","value":"bob"}]`,
			`{` + strings.Replace(base, `"alice@example.com","name"`, `"bob","name"`, 1) + `,"title":"CTO","` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"sub-attribute path", `[{"op":"replace","path":"name.familyName","value":"Doe"},{"op":"add","path":"name.middleName","value":"M"}]`,
			`{` + strings.Replace(base, `"familyName":"Jensen"`, `"familyName":"Doe","middleName":"M"`, 1) + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"replace of complex merges sub-attributes", `[{"op":"replace","path":"name","value":{"givenName":"Al"}}]`,
			`{` + strings.Replace(base, `"givenName":"Alice"`, `"givenName":"Al"`, 1) + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"remove sub-attribute and attribute", `[{"op":"remove","path":"name.givenName"},{"op":"remove","path":"emails"}]`,
			`{"externalId":"ext-1","userName":"alice@example.com","name":{"familyName":"Jensen"},"active":true,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"remove of absent attribute is a no-op", `[{"op":"remove","path":"title"},{"op":"remove","path":"phoneNumbers[type eq \"work\"]"}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"attribute names in any case", `[{"op":"replace","path":"NAME.FAMILYNAME","value":"Doe"},{"op":"replace","path":"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:DEPARTMENT","value":"Ops"}]`,
			`{` + strings.Replace(base, `"familyName":"Jensen"`, `"familyName":"Doe"`, 1) + `,"` + ent + `":{"department":"Ops","manager":{"value":"m-1"}}}`},
		{"Entra path-less replace with dotted and URN keys", `[{"op":"Replace","value":{"displayName":"Alice J","name.givenName":"Ally",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Sales","emails[type eq \"work\"].value":"ally@example.com","active":"False"}}]`,
			`{"externalId":"ext-1","userName":"alice@example.com","displayName":"Alice J","name":{"givenName":"Ally","familyName":"Jensen"},"active":false,
			  "emails":[{"value":"ally@example.com","type":"work","primary":true}],"` + ent + `":{"department":"Sales","manager":{"value":"m-1"}}}`},
		{"path-less value with nested extension object", `[{"op":"add","value":{"` + ent + `":{"costCenter":"42"},"nickName":"Al"}}]`,
			`{` + base + `,"nickName":"Al","` + ent + `":{"department":"R&D","costCenter":"42","manager":{"value":"m-1"}}}`},
		{"path-less value ignores unknown core attributes, keeps unknown URNs", `[{"op":"add","value":{"favouriteColour":"blue","urn:okta:custom:1.0:User":{"badge":"7"}}}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}},"urn:okta:custom:1.0:User":{"badge":"7"}}`},
		{"null in path-less replace removes", `[{"op":"replace","value":{"name":null,"title":null}}]`,
			`{"externalId":"ext-1","userName":"alice@example.com","active":true,"emails":[{"value":"alice@example.com","type":"work","primary":true}],
			  "` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"replace through value filter", `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.com"}]`,
			`{` + strings.Replace(base, `"value":"alice@example.com"`, `"value":"new@example.com"`, 1) + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"replace element through value filter merges", `[{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"w@example.com","primary":false}}]`,
			`{` + strings.Replace(base, `"value":"alice@example.com","type":"work","primary":true`, `"value":"w@example.com","type":"work","primary":false`, 1) + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"add to multi-valued appends without duplicates", `[{"op":"add","path":"emails","value":[{"value":"alice@example.com","type":"work","primary":true},{"value":"a@home.org","type":"home"}]}]`,
			`{` + strings.Replace(base, `"primary":true}]`, `"primary":true},{"value":"a@home.org","type":"home"}]`, 1) + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"add single object to multi-valued", `[{"op":"add","path":"phoneNumbers","value":{"value":"555","type":"work"}}]`,
			`{` + base + `,"phoneNumbers":[{"value":"555","type":"work"}],"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"remove through value filter", `[{"op":"remove","path":"emails[type eq \"work\"]"}]`,
			`{"externalId":"ext-1","userName":"alice@example.com","name":{"givenName":"Alice","familyName":"Jensen"},"active":true,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"remove sub-attribute through value filter", `[{"op":"remove","path":"emails[type eq \"work\"].primary"}]`,
			`{` + strings.Replace(base, `,"primary":true`, ``, 1) + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"remove through value filter matching nothing is a no-op", `[{"op":"remove","path":"emails[type eq \"home\"]"}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"remove with value removes only those", `[{"op":"add","path":"emails","value":[{"value":"b@x","type":"home"}]},{"op":"remove","path":"emails","value":[{"value":"alice@example.com"}]}]`,
			`{"externalId":"ext-1","userName":"alice@example.com","name":{"givenName":"Alice","familyName":"Jensen"},"active":true,
			  "emails":[{"value":"b@x","type":"home"}],"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"extension attribute path", `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"701984"}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D","employeeNumber":"701984","manager":{"value":"m-1"}}}`},
		{"Entra manager as bare string", `[{"op":"Add","path":"` + ent + `:manager","value":"m-2"}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-2"}}}`},
		{"manager as object", `[{"op":"replace","path":"` + ent + `:manager","value":{"value":"m-3"}}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-3"}}}`},
		{"Entra manager as array with $ref", `[{"op":"replace","path":"` + ent + `:manager","value":[{"value":"m-4","$ref":"../Users/m-4"}]}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-4","$ref":"../Users/m-4"}}}`},
		{"manager.value sub-attribute", `[{"op":"replace","path":"` + ent + `:manager.value","value":"m-5"}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-5"}}}`},
		{"manager removal by empty string", `[{"op":"Replace","path":"` + ent + `:manager","value":""}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D"}}`},
		{"manager removal by empty value object", `[{"op":"Replace","path":"` + ent + `:manager","value":{"value":""}}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D"}}`},
		{"manager removal by op remove", `[{"op":"Remove","path":"` + ent + `:manager"}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D"}}`},
		{"manager removal in path-less value", `[{"op":"replace","value":{"` + ent + `:manager":""}}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D"}}`},
		{"extension emptied disappears", `[{"op":"remove","path":"` + ent + `:manager"},{"op":"remove","path":"` + ent + `:department"}]`,
			`{` + base + `}`},
		{"password ignored, never stored", `[{"op":"replace","value":{"password":"hunter2"}},{"op":"replace","path":"password","value":"x"}]`,
			`{` + base + `,"` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
		{"echoed id and meta are ignored", `[{"op":"replace","value":{"id":"u-1","meta":{"resourceType":"User"},"nickName":"Al"}},{"op":"replace","path":"id","value":"u-1"}]`,
			`{` + base + `,"nickName":"Al","` + ent + `":{"department":"R&D","manager":{"value":"m-1"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := obj(t, storedUser)
			got, err := Apply(schema.UserResource, res, ops(t, tt.ops))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !jsonEqual(t, got, tt.want) {
				b, _ := json.Marshal(got)
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
			if !jsonEqual(t, res, storedUser) {
				t.Errorf("Apply modified its input")
			}
		})
	}
}

func TestApplyEntraAddsWorkEmailToUserWithout(t *testing.T) {
	res := obj(t, `{"id":"u-2","userName":"bob","emails":[{"value":"bob@home.org","type":"home"}]}`)
	got, err := Apply(schema.UserResource, res, ops(t, `[{"op":"Add","path":"emails[type eq \"work\"].value","value":"bob@example.com"}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"userName":"bob","emails":[{"value":"bob@home.org","type":"home"},{"type":"work","value":"bob@example.com"}]}`
	if !jsonEqual(t, got, want) {
		t.Errorf("got %v", got)
	}
	// Without any email at all.
	got, err = Apply(schema.UserResource, obj(t, `{"userName":"bob"}`), ops(t, `[{"op":"add","path":"emails[type eq \"work\" and primary eq true].value","value":"b@x"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, got, `{"userName":"bob","emails":[{"type":"work","primary":true,"value":"b@x"}]}`) {
		t.Errorf("got %v", got)
	}
}

func TestApplyGroup(t *testing.T) {
	stored := `{"schemas":["` + schema.GroupURN + `"],"id":"g-1","displayName":"Admins","externalId":"e","meta":{"resourceType":"Group"}}`
	tests := []struct {
		name, ops, want string
	}{
		{"Okta group replace echoing id", `[{"op":"replace","value":{"id":"g-1","displayName":"Test SCIMv2"}}]`,
			`{"displayName":"Test SCIMv2","externalId":"e"}`},
		{"Entra rename", `[{"op":"Replace","path":"displayName","value":"Ops"}]`, `{"displayName":"Ops","externalId":"e"}`},
		{"small members list applies generically", `[{"op":"add","path":"members","value":[{"value":"u1","$ref":null,"display":"U"}]}]`,
			`{"displayName":"Admins","externalId":"e","members":[{"value":"u1"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply(schema.GroupResource, obj(t, stored), ops(t, tt.ops))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !jsonEqual(t, got, tt.want) {
				b, _ := json.Marshal(got)
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name, ops, scimType string
		unknown             bool
	}{
		{"unknown attribute", `[{"op":"replace","path":"favouriteColour","value":"x"}]`, schema.ScimTypeInvalidPath, true},
		{"unknown sub-attribute", `[{"op":"replace","path":"name.nick","value":"x"}]`, schema.ScimTypeInvalidPath, true},
		{"undeclared extension path", `[{"op":"replace","path":"urn:okta:custom:1.0:User:badge","value":"x"}]`, schema.ScimTypeInvalidPath, true},
		{"malformed path", `[{"op":"replace","path":"emails[type eq","value":"x"}]`, schema.ScimTypeInvalidPath, false},
		{"malformed path-less key", `[{"op":"replace","value":{"emails[type eq \"work\"":"x"}}]`, schema.ScimTypeInvalidPath, false},
		{"bad value filter", `[{"op":"replace","path":"emails[type xx \"work\"].value","value":"x"}]`, schema.ScimTypeInvalidFilter, false},
		{"replace through filter matching nothing", `[{"op":"replace","path":"emails[type eq \"home\"].value","value":"x"}]`, schema.ScimTypeNoTarget, false},
		{"change id", `[{"op":"replace","path":"id","value":"other"}]`, schema.ScimTypeMutability, false},
		{"change id path-less (Okta shape, other id)", `[{"op":"replace","value":{"id":"other","active":false}}]`, schema.ScimTypeMutability, false},
		{"remove id", `[{"op":"remove","path":"id"}]`, schema.ScimTypeMutability, false},
		{"change meta.created", `[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]`, schema.ScimTypeMutability, false},
		{"add groups", `[{"op":"add","path":"groups","value":[{"value":"g-2"}]}]`, schema.ScimTypeMutability, false},
		{"type error: string for complex", `[{"op":"replace","path":"name","value":"Alice"}]`, schema.ScimTypeInvalidValue, false},
		{"type error: non-bool string", `[{"op":"replace","path":"active","value":"yes"}]`, schema.ScimTypeInvalidValue, false},
		{"type error: object for string", `[{"op":"replace","path":"title","value":{"a":1}}]`, schema.ScimTypeInvalidValue, false},
		{"path-less non-object value", `[{"op":"replace","value":"x"}]`, schema.ScimTypeInvalidValue, false},
		{"filtered element replace with non-object", `[{"op":"replace","path":"emails[type eq \"work\"]","value":"x"}]`, schema.ScimTypeInvalidValue, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o []Operation
			if err := json.Unmarshal([]byte(tt.ops), &o); err != nil {
				t.Fatal(err)
			}
			res := obj(t, storedUser)
			got, err := Apply(schema.UserResource, res, o)
			var se *schema.Error
			if !errors.As(err, &se) || se.Status != 400 || se.ScimType != tt.scimType {
				t.Fatalf("Apply = %v, %v; want 400 %s", got, err, tt.scimType)
			}
			if errors.Is(err, schema.ErrUnknownAttribute) != tt.unknown {
				t.Errorf("wraps ErrUnknownAttribute = %v, want %v", !tt.unknown, tt.unknown)
			}
			if !strings.HasPrefix(se.Detail, "operation 0: ") {
				t.Errorf("detail %q lacks the operation index", se.Detail)
			}
			if !jsonEqual(t, res, storedUser) {
				t.Errorf("Apply modified its input")
			}
		})
	}
}

func TestApplyAllOrNothing(t *testing.T) {
	res := obj(t, storedUser)
	_, err := Apply(schema.UserResource, res, ops(t, `[{"op":"replace","path":"userName","value":"changed"},{"op":"replace","path":"id","value":"x"}]`))
	if err == nil {
		t.Fatal("want mutability error")
	}
	if res["userName"] != "alice@example.com" {
		t.Errorf("first operation leaked into the input: %v", res["userName"])
	}
}

func TestApplyImmutable(t *testing.T) {
	res := obj(t, `{"displayName":"G","members":[{"value":"u1","type":"User"}]}`)
	_, err := Apply(schema.GroupResource, res, ops(t, `[{"op":"replace","path":"members[value eq \"u1\"].value","value":"u2"}]`))
	var se *schema.Error
	if !errors.As(err, &se) || se.ScimType != schema.ScimTypeMutability {
		t.Errorf("changing members.value: %v, want mutability", err)
	}
	// Setting the same value is fine.
	if _, err := Apply(schema.GroupResource, res, ops(t, `[{"op":"replace","path":"members[value eq \"u1\"].type","value":"User"}]`)); err != nil {
		t.Errorf("unchanged immutable value: %v", err)
	}
}
