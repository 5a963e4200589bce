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

package schema

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	const ent = EnterpriseUserURN
	tests := []struct {
		name string
		rt   *ResourceType
		in   string
		want string
	}{
		{"canonical case, schemas and readOnly dropped", UserResource,
			`{"schemas":["` + UserURN + `"],"id":"abc","meta":{"created":"2020-01-01T00:00:00Z"},"groups":[{"value":"g"}],
			  "USERNAME":"alice","Name":{"GIVENNAME":"Alice"},"externalId":"e1"}`,
			`{"userName":"alice","name":{"givenName":"Alice"},"externalId":"e1"}`},
		{"password never stored", UserResource, `{"userName":"a","password":"hunter2"}`, `{"userName":"a"}`},
		{"unknown core attribute ignored", UserResource, `{"userName":"a","favouriteColour":"blue","name.bogus":"x"}`, `{"userName":"a"}`},
		{"null means absent", UserResource, `{"userName":"a","displayName":null,"name":{"givenName":null},"emails":null}`, `{"userName":"a"}`},
		{"bool strings", UserResource, `{"userName":"a","active":"False","emails":[{"value":"x","primary":"TRUE"}]}`,
			`{"userName":"a","active":false,"emails":[{"value":"x","primary":true}]}`},
		{"single object for multi-valued", UserResource, `{"userName":"a","emails":{"value":"a@x","type":"work"}}`,
			`{"userName":"a","emails":[{"value":"a@x","type":"work"}]}`},
		{"numeric string attribute tolerated", UserResource, `{"userName":"a","` + ent + `":{"employeeNumber":1234}}`,
			`{"userName":"a","` + ent + `":{"employeeNumber":"1234"}}`},
		{"extension URN key case-insensitive", UserResource,
			`{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:user":{"Department":"R&D"}}`,
			`{"userName":"a","` + ent + `":{"department":"R&D"}}`},
		{"flat dotted extension keys", UserResource,
			`{"userName":"a","` + ent + `:department":"R&D","` + ent + `:manager.value":"m1","name.familyName":"Doe"}`,
			`{"userName":"a","name":{"familyName":"Doe"},"` + ent + `":{"department":"R&D","manager":{"value":"m1"}}}`},
		{"flat key merges with nested", UserResource,
			`{"userName":"a","name":{"givenName":"Al"},"name.familyName":"Doe"}`,
			`{"userName":"a","name":{"givenName":"Al","familyName":"Doe"}}`},
		{"core URN wrapper", UserResource, `{"` + UserURN + `":{"userName":"a"}}`, `{"userName":"a"}`},
		{"unknown extension URN kept as-is", UserResource,
			`{"userName":"a","urn:okta:custom:1.0:User":{"Whatever":{"deep":[1,"x"]}}}`,
			`{"userName":"a","urn:okta:custom:1.0:User":{"Whatever":{"deep":[1,"x"]}}}`},
		{"unknown attribute of known extension dropped", UserResource,
			`{"userName":"a","` + ent + `:bogus":"x","` + ent + `":{"bogus":"y"}}`, `{"userName":"a"}`},
		{"manager bare string (Entra)", UserResource, `{"userName":"a","` + ent + `":{"manager":"m1"}}`,
			`{"userName":"a","` + ent + `":{"manager":{"value":"m1"}}}`},
		{"manager array with $ref (Entra)", UserResource,
			`{"userName":"a","` + ent + `":{"manager":[{"value":"m1","$ref":"../Users/m1"}]}}`,
			`{"userName":"a","` + ent + `":{"manager":{"value":"m1","$ref":"../Users/m1"}}}`},
		{"manager empty string removed", UserResource, `{"userName":"a","` + ent + `":{"manager":"","department":"d"}}`,
			`{"userName":"a","` + ent + `":{"department":"d"}}`},
		{"manager empty value removed", UserResource, `{"userName":"a","` + ent + `":{"manager":{"value":""}}}`, `{"userName":"a"}`},
		{"manager displayName readOnly dropped", UserResource,
			`{"userName":"a","` + ent + `":{"manager":{"value":"m","displayName":"Boss"}}}`,
			`{"userName":"a","` + ent + `":{"manager":{"value":"m"}}}`},
		{"group members kept, display dropped, null $ref dropped", GroupResource,
			`{"displayName":"G","members":[{"value":"u1","$ref":null,"display":"U"},{"value":"u2","type":"User"}]}`,
			`{"displayName":"G","members":[{"value":"u1"},{"value":"u2","type":"User"}]}`},
		{"user attributes unknown on group", GroupResource, `{"displayName":"G","userName":"x"}`, `{"displayName":"G"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := obj(t, tt.in)
			before := Clone(in)
			got, err := Normalize(tt.rt, in)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if !equalJSON(t, got, obj(t, tt.want)) {
				t.Errorf("got  %v\nwant %s", got, tt.want)
			}
			if !equalJSON(t, in, before) {
				t.Errorf("input modified: %v", in)
			}
		})
	}
}

func TestNormalizeTypedValues(t *testing.T) {
	got, err := Normalize(UserResource, obj(t, `{"userName":"a","active":"true"}`))
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := got["active"].(bool); !ok || !b {
		t.Errorf("active = %#v, want bool true", got["active"])
	}
	// float64 input (json.Unmarshal without UseNumber) works as well.
	got, err = Normalize(UserResource, map[string]any{"userName": "a", EnterpriseUserURN: map[string]any{"costCenter": float64(42)}})
	if err != nil {
		t.Fatal(err)
	}
	if v := got[EnterpriseUserURN].(map[string]any)["costCenter"]; v != "42" {
		t.Errorf("costCenter = %#v", v)
	}
}

func TestNormalizeErrors(t *testing.T) {
	long := strings.Repeat("x", MaxStringLength+1)
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"value":"x"},`, MaxArrayLength+1), ",") + "]"
	deep := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)
	tests := []struct {
		name, in, mention string
		rt                *ResourceType // default UserResource
	}{
		{"string for complex", `{"userName":"a","name":"Alice"}`, "name", nil},
		{"object for string", `{"userName":{"x":"y"}}`, "userName", nil},
		{"array for single string", `{"userName":["a","b"]}`, "userName", nil},
		{"non-bool string", `{"userName":"a","active":"yes"}`, "active", nil},
		{"number for bool", `{"userName":"a","active":1}`, "active", nil},
		{"string element for complex multi", `{"userName":"a","emails":["a@x"]}`, "emails", nil},
		{"sub-attribute type", `{"userName":"a","emails":[{"value":"x","primary":"maybe"}]}`, "emails.primary", nil},
		{"manager number", `{"userName":"a","` + EnterpriseUserURN + `":{"manager":7}}`, "manager", nil},
		{"extension not an object", `{"userName":"a","` + EnterpriseUserURN + `":"x"}`, EnterpriseUserURN, nil},
		{"flat sub path of multi-valued", `{"userName":"a","emails.value":"x"}`, "emails", nil},
		{"long string", `{"userName":"` + long + `"}`, "userName", nil},
		{"long string in unknown extension", `{"userName":"a","urn:x:y":{"k":"` + long + `"}}`, "urn:x:y.k", nil},
		{"too many values", `{"userName":"a","emails":` + many + `}`, "emails", nil},
		{"too deep", `{"userName":"a","urn:x:y":` + deep + `}`, "nested", nil},
		{"two primary values", `{"userName":"a","phoneNumbers":[{"value":"1","primary":true},{"value":"2","primary":"True"}]}`, "phoneNumbers", nil},
		{"number for userName", `{"userName":42}`, "userName", nil},
		{"boolean for userName", `{"userName":true}`, "userName", nil},
		{"blank userName", `{"userName":"   "}`, "userName", nil},
		{"number for a Group's displayName", `{"displayName":7}`, "displayName", GroupResource},
		{"blank displayName", `{"displayName":" \t"}`, "displayName", GroupResource},
		{"schemas not an array", `{"schemas":"` + UserURN + `","userName":"a"}`, "schemas", nil},
		{"schemas holding a number", `{"schemas":["` + UserURN + `",1],"userName":"a"}`, "schemas", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := tt.rt
			if rt == nil {
				rt = UserResource
			}
			_, err := Normalize(rt, obj(t, tt.in))
			if scimType(err) != ScimTypeInvalidValue {
				t.Fatalf("err = %v, want invalidValue", err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if strings.Contains(err.Error(), "xxxxxxxx") {
				t.Errorf("error echoes the value: %.80q", err)
			}
		})
	}
}

func TestNormalizeLargeGroupMembers(t *testing.T) {
	members := make([]any, 5000)
	for i := range members {
		members[i] = map[string]any{"value": "u" + strings.Repeat("x", i%7)}
	}
	got, err := Normalize(GroupResource, map[string]any{"displayName": "big", "members": members})
	if err != nil {
		t.Fatalf("5000 members refused: %v", err)
	}
	if n := len(got["members"].([]any)); n != 5000 {
		t.Errorf("members = %d", n)
	}
	members = make([]any, MaxMembers+1)
	for i := range members {
		members[i] = map[string]any{"value": "u"}
	}
	if _, err := Normalize(GroupResource, map[string]any{"displayName": "big", "members": members}); scimType(err) != ScimTypeInvalidValue {
		t.Errorf("MaxMembers+1: err = %v", err)
	}
	// Other lists keep the ordinary limit, also when named "members" deeper down.
	nested := map[string]any{"members": make([]any, MaxArrayLength+1)}
	if _, err := Normalize(GroupResource, map[string]any{"displayName": "g", "urn:x:y": nested}); scimType(err) != ScimTypeInvalidValue {
		t.Errorf("nested members list: err = %v", err)
	}
}

func TestNormalizeNumbers(t *testing.T) {
	rt := &ResourceType{Name: "Thing", Schema: &Schema{ID: "urn:example:Thing", Attributes: []*Attribute{
		def(Attribute{Name: "count", Type: TypeInteger}),
		def(Attribute{Name: "ratio", Type: TypeDecimal}),
		def(Attribute{Name: "sizes", Type: TypeInteger, MultiValued: true}),
	}}}
	got, err := Normalize(rt, obj(t, `{"count":"42","ratio":"0.5","sizes":["1",2,3.0]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got["count"] != int64(42) || got["ratio"] != 0.5 || !equalJSON(t, got["sizes"], []any{1, 2, 3}) {
		t.Errorf("got %#v", got)
	}
	for _, bad := range []string{`{"count":"4.5"}`, `{"count":4.5}`, `{"count":true}`, `{"ratio":"x"}`, `{"sizes":[{"a":1}]}`} {
		if _, err := Normalize(rt, obj(t, bad)); scimType(err) != ScimTypeInvalidValue {
			t.Errorf("%s: err = %v, want invalidValue", bad, err)
		}
	}
}
