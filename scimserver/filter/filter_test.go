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

package filter

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kubescim/kubescim/scimserver/schema"
)

func obj(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad test JSON: %v", err)
	}
	return m
}

const ent = schema.EnterpriseUserURN

// alice and bob are stored users as the HTTP layer would present them.
const alice = `{"id":"2819c223-7f76-453a-919d-413861904646","externalId":"AL-1","userName":"Alice@Example.com",
	"name":{"familyName":"Jensen","givenName":"Alice"},"title":"Tour Guide","userType":"Employee","active":true,
	"emails":[{"value":"alice@example.com","type":"work","primary":true},{"value":"alice@home.org","type":"home"}],
	"phoneNumbers":[{"value":"555-555-8377","type":"work"}],
	"meta":{"resourceType":"User","created":"2011-08-01T18:29:49.793Z","lastModified":"2011-08-01T18:29:49.793Z"},
	"` + ent + `":{"department":"Tour Operations","employeeNumber":"701984","manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}}}`

const bob = `{"id":"b0b","userName":"bjensen","name":{"familyName":"Employee"},"active":false,"userType":"Contractor",
	"emails":[{"value":"bob@example.org","type":"work"}],
	"meta":{"resourceType":"User","created":"2016-01-01T00:00:00Z","lastModified":"2016-01-01T00:00:00Z"}}`

func TestMatchUsers(t *testing.T) {
	a, b := obj(t, alice), obj(t, bob)
	tests := []struct {
		filter     string
		alice, bob bool
	}{
		// RFC 7644 §3.4.2.2 examples.
		{`userName Eq "bjensen"`, false, true},
		{`name.familyName co "O'Malley"`, false, false},
		{`name.familyName co "ense"`, true, false},
		{`userName sw "J"`, false, false},
		{`userName sw "b"`, false, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley"`, false, false},
		{`title pr`, true, false},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, true, true},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, true, true},
		{`meta.lastModified lt "2011-05-13T04:42:34Z"`, false, false},
		{`meta.lastModified le "2011-08-01T18:29:49.793Z"`, true, false},
		{`meta.lastModified gt "2011-08-01T20:29:49+02:00"`, true, true}, // same instant as 18:29:49Z, compared as time
		{`title pr and userType eq "Employee"`, true, false},
		{`title pr or userType eq "Intern"`, true, false},

		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, true, false},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, false, false},
		{`userType eq "Employee" and (emails.type eq "work")`, true, false},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`, true, false},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, true, false},
		// Case rules: userName is caseExact=false, id and externalId are caseExact.
		{`userName eq "alice@example.com"`, true, false},
		{`USERNAME EQ "ALICE@EXAMPLE.COM"`, true, false},
		{`externalId eq "al-1"`, false, false},
		{`externalId eq "AL-1"`, true, false},
		{`id eq "B0B"`, false, false},
		{`id eq "b0b"`, false, true},
		// Types.
		{`active eq true`, true, false},
		{`active eq false`, false, true},
		{`active eq "true"`, true, false},
		{`active Eq True`, true, false},
		{`active ne true`, false, true},
		{`name.familyName eq null`, false, false},
		{`title eq null`, false, true},
		{`title ne "Tour Guide"`, false, true},
		// Extensions.
		{ent + `:department eq "tour operations"`, true, false},
		{ent + `:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true, false},
		{`URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER sw "70"`, true, false},
		{ent + `:manager pr`, true, false},
		// IdP filters: Okta and Entra.
		{`userName eq "Alice@Example.com"`, true, false},
		{`externalId eq "AL-1"`, true, false},
		{`emails[type eq "work"].value eq "alice@example.com"`, true, false},
		{`emails[type eq "home"].value eq "alice@example.com"`, false, false},
		{`emails[type eq "work" or type eq "home"].value ew ".org"`, true, true},
		{`emails[type eq "home"].value ew ".org"`, true, false},
		{`emails[(type eq "work" or type eq "home") and not (value sw "bob")].value ew ".org"`, true, false},
		{`schemas eq "` + ent + `"`, true, false},
		{`schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`, true, true},
		{`schemas ne "` + ent + `"`, false, true},
		{`emails[type eq "work"].value pr`, true, true},
		// Microsoft reference collection (with decoded "+", unquoted values tolerated).
		{`DisplayName eq "BobIsAmazing"`, false, false},
		{`name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`, false, true},
		{`userName sw O`, false, false},
		{`userName sw A`, true, false},
		{`meta.Created gt 2015-10-10T14:38:21.8617979-07:00`, false, true},
		// Whitespace, escapes, grouping.
		{"  userName   eq\t\"bjensen\"  ", false, true},
		{`( userName eq "bjensen" )`, false, true},
		{`title eq "Tour\u0020Guide"`, true, false},
		{`not (not (userName eq "bjensen"))`, false, true},
		{`userName eq "x" or userName eq "bjensen" and active eq false`, false, true},
	}
	for _, tt := range tests {
		f, err := Parse(schema.UserResource, tt.filter)
		if err != nil {
			t.Errorf("Parse(%s): %v", tt.filter, err)
			continue
		}
		if got := f.Match(a); got != tt.alice {
			t.Errorf("%s: alice matched = %v, want %v", tt.filter, got, tt.alice)
		}
		if got := f.Match(b); got != tt.bob {
			t.Errorf("%s: bob matched = %v, want %v", tt.filter, got, tt.bob)
		}
	}
}

func TestMatchNumbersAsFloat(t *testing.T) {
	// Resources decoded without UseNumber carry float64; typed values still compare.
	var res map[string]any
	if err := json.Unmarshal([]byte(`{"userName":"a","active":true,"`+ent+`":{"employeeNumber":"12"}}`), &res); err != nil {
		t.Fatal(err)
	}
	for filter, want := range map[string]bool{
		`active eq true`:                     true,
		ent + `:employeeNumber eq 12`:        true,
		ent + `:employeeNumber eq "12"`:      true,
		ent + `:employeeNumber eq "012"`:     false,
		`userName eq "a" and active eq true`: true,
	} {
		f, err := Parse(schema.UserResource, filter)
		if err != nil {
			t.Fatalf("Parse(%s): %v", filter, err)
		}
		if f.Match(res) != want {
			t.Errorf("%s: want %v", filter, want)
		}
	}
}

func TestMatchGroups(t *testing.T) {
	g := obj(t, `{"id":"g1","displayName":"Admins","externalId":"x","members":[{"value":"u1","type":"User"},{"value":"u2"}]}`)
	for filter, want := range map[string]bool{
		`displayName eq "admins"`:          true,
		`displayName eq "Admins"`:          true,
		`members[value eq "u2"]`:           true,
		`members[value eq "u3"]`:           false,
		`members.value eq "u1"`:            true,
		`members eq "u1"`:                  true,
		`members[type eq "User"]`:          true,
		`externalId eq "x" and id eq "g1"`: true,
	} {
		f, err := Parse(schema.GroupResource, filter)
		if err != nil {
			t.Fatalf("Parse(%s): %v", filter, err)
		}
		if f.Match(g) != want {
			t.Errorf("%s: want %v", filter, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth+1) + `userName eq "x"` + strings.Repeat(")", MaxDepth+1)
	tests := []struct {
		rt     *schema.ResourceType
		filter string
	}{
		{schema.UserResource, ``},
		{schema.UserResource, `   `},
		{schema.UserResource, `userName`},
		{schema.UserResource, `userName eq`},
		{schema.UserResource, `userName eq "x" and`},
		{schema.UserResource, `userName xx "x"`},
		{schema.UserResource, `userName eq "x`},
		{schema.UserResource, `userName eq 'x'`},
		{schema.UserResource, `(userName eq "x"`},
		{schema.UserResource, `userName eq "x")`},
		{schema.UserResource, `a.b.c eq "x"`},
		{schema.UserResource, `bogus eq "x"`},
		{schema.UserResource, `name.bogus eq "x"`},
		{schema.UserResource, `urn:okta:custom:1.0:User:foo eq "x"`},
		{schema.UserResource, ent + `:bogus eq "x"`},
		{schema.GroupResource, `userName eq "x"`},
		{schema.UserResource, `emails[bogus eq "x"]`},
		{schema.UserResource, `userName[value eq "x"]`},
		{schema.UserResource, `emails[type eq "work"].bogus eq "x"`},
		{schema.UserResource, `name eq "x"`},
		{schema.UserResource, ent + `:manager eq "x"`},
		{schema.UserResource, `active gt true`},
		{schema.UserResource, `active eq "yes"`},
		{schema.UserResource, `active co "t"`},
		{schema.UserResource, `meta.created gt "yesterday"`},
		{schema.UserResource, `meta.created gt 5`},
		{schema.UserResource, `userName gt null`},
		{schema.UserResource, `x509Certificates.value gt "x"`},
		{schema.UserResource, deep},
		{schema.UserResource, `userName eq "` + strings.Repeat("x", MaxFilterLength) + `"`},
	}
	for _, tt := range tests {
		f, err := Parse(tt.rt, tt.filter)
		var se *schema.Error
		if !errors.As(err, &se) || se.Status != 400 || se.ScimType != schema.ScimTypeInvalidFilter {
			t.Errorf("Parse(%.60s) = %v, %v; want invalidFilter", tt.filter, f, err)
		}
	}
	_, err := Parse(schema.UserResource, `bogus eq "x"`)
	if !errors.Is(err, schema.ErrUnknownAttribute) {
		t.Errorf("unknown attribute error does not wrap ErrUnknownAttribute: %v", err)
	}
}

func TestNestingWithinLimit(t *testing.T) {
	f := strings.Repeat("(", MaxDepth) + `userName eq "x"` + strings.Repeat(")", MaxDepth)
	if _, err := Parse(schema.UserResource, f); err != nil {
		t.Errorf("depth %d refused: %v", MaxDepth, err)
	}
}

func TestIndexHint(t *testing.T) {
	tests := []struct {
		filter, attr, value string
		ok                  bool
	}{
		{`userName eq "bjensen"`, "userName", "bjensen", true},
		{`USERNAME EQ "BJensen"`, "userName", "BJensen", true},
		{`externalId eq "e-1"`, "externalId", "e-1", true},
		{`id eq "abc"`, "id", "abc", true},
		{`displayName eq "Admins"`, "displayName", "Admins", true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, "userName", "x", true},
		{`active eq true and userName eq "x"`, "userName", "x", true},
		{`userName eq "x" and active eq true`, "userName", "x", true},
		{`userName eq "x" or userName eq "y"`, "", "", false},
		{`userName ne "x"`, "", "", false},
		{`userName sw "x"`, "", "", false},
		{`not (userName eq "x")`, "", "", false},
		{`title eq "x"`, "", "", false},
		{`emails[value eq "x"]`, "", "", false},
		{`userName eq null`, "", "", false},
	}
	for _, tt := range tests {
		f, err := Parse(schema.UserResource, tt.filter)
		if err != nil {
			t.Fatalf("Parse(%s): %v", tt.filter, err)
		}
		attr, value, ok := f.IndexHint()
		if attr != tt.attr || value != tt.value || ok != tt.ok {
			t.Errorf("%s: IndexHint = %q %q %v, want %q %q %v", tt.filter, attr, value, ok, tt.attr, tt.value, tt.ok)
		}
	}
	f, err := Parse(schema.GroupResource, `displayName eq "Admins"`)
	if err != nil {
		t.Fatal(err)
	}
	if attr, value, ok := f.IndexHint(); attr != "displayName" || value != "Admins" || !ok {
		t.Errorf("group IndexHint = %q %q %v", attr, value, ok)
	}
}
