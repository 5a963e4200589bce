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
	"errors"
	"testing"

	"github.com/kubescim/kubescim/scimserver/schema"
)

func TestParseValuePath(t *testing.T) {
	work := obj(t, `{"type":"work","value":"a@x.io"}`)
	home := obj(t, `{"type":"home","value":"a@home.io","primary":true}`)
	tests := []struct {
		rt                   *schema.ResourceType
		path                 string
		attr, sub            string
		hasFilter            bool
		matchWork, matchHome bool
	}{
		{schema.UserResource, `userName`, "userName", "", false, false, false},
		{schema.UserResource, `NAME.familyname`, "name.familyName", "", false, false, false},
		{schema.UserResource, schema.EnterpriseUserURN + `:manager`, schema.EnterpriseUserURN + ":manager", "", false, false, false},
		{schema.UserResource, `emails[type eq "work"]`, "emails", "", true, true, false},
		{schema.UserResource, `emails[type eq "work"].value`, "emails", "value", true, true, false},
		{schema.UserResource, `EMAILS[TYPE EQ "home"].VALUE`, "emails", "value", true, false, true},
		{schema.UserResource, `emails[ type eq "work" or primary eq true ]`, "emails", "", true, true, true},
		{schema.UserResource, `emails[value ew ".io" and not (type eq "work")]`, "emails", "", true, false, true},
		{schema.UserResource, `emails[emails.type eq "work"]`, "emails", "", true, true, false},
		{schema.UserResource, `emails[value eq "a@x.io"].primary`, "emails", "primary", true, true, false},
		{schema.UserResource, `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]`, "emails", "", true, true, false},
		{schema.GroupResource, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`, "members", "", true, false, false},
		// A single-valued complex attribute is filtered like a list of at most one value.
		{schema.UserResource, schema.EnterpriseUserURN + `:manager[value eq "a@x.io"]`, schema.EnterpriseUserURN + ":manager", "", true, true, false},
		{schema.UserResource, `name[givenName eq "x"].familyName`, "name", "familyName", true, false, false},
	}
	for _, tt := range tests {
		attr, elem, sub, err := ParseValuePath(tt.rt, tt.path)
		if err != nil {
			t.Errorf("ParseValuePath(%s): %v", tt.path, err)
			continue
		}
		if attr.String() != tt.attr || sub != tt.sub || (elem != nil) != tt.hasFilter {
			t.Errorf("ParseValuePath(%s) = %q, filter %v, sub %q", tt.path, attr.String(), elem != nil, sub)
			continue
		}
		if elem == nil {
			continue
		}
		if elem.MatchElement(work) != tt.matchWork || elem.MatchElement(home) != tt.matchHome {
			t.Errorf("%s: work %v home %v", tt.path, elem.MatchElement(work), elem.MatchElement(home))
		}
	}

	member := obj(t, `{"value":"2819c223-7f76-453a-919d-413861904646","display":"Babs"}`)
	_, elem, _, err := ParseValuePath(schema.GroupResource, `members[value eq "2819c223-7f76-453a-919d-413861904646" or value eq "x"]`)
	if err != nil || !elem.MatchElement(member) {
		t.Errorf("member filter: %v", err)
	}
}

func TestParseValuePathErrors(t *testing.T) {
	tests := []struct {
		path, scimType string
		unknown        bool
	}{
		{``, schema.ScimTypeInvalidPath, false},
		{`bogus`, schema.ScimTypeInvalidPath, true},
		{`name.bogus`, schema.ScimTypeInvalidPath, true},
		{`urn:okta:custom:1.0:User:foo`, schema.ScimTypeInvalidPath, true},
		{`emails[type eq "work"`, schema.ScimTypeInvalidPath, false},
		{`emails[type eq "work"]x`, schema.ScimTypeInvalidPath, false},
		{`emails[type eq "work"].bogus`, schema.ScimTypeInvalidPath, true},
		{`emails[type eq "work"].value.x`, schema.ScimTypeInvalidPath, false},
		{`bogus[type eq "work"]`, schema.ScimTypeInvalidPath, true},
		{`userName[value eq "x"]`, schema.ScimTypeInvalidPath, false},
		{`emails[type[x eq "y"] eq "work"]`, schema.ScimTypeInvalidPath, false},
		{`emails[bogus eq "work"]`, schema.ScimTypeInvalidFilter, true},
		{`emails[type eq]`, schema.ScimTypeInvalidFilter, false},
		{`emails[]`, schema.ScimTypeInvalidFilter, false},
		{`emails[primary eq "maybe"]`, schema.ScimTypeInvalidFilter, false},
	}
	for _, tt := range tests {
		_, _, _, err := ParseValuePath(schema.UserResource, tt.path)
		var se *schema.Error
		if !errors.As(err, &se) || se.Status != 400 || se.ScimType != tt.scimType {
			t.Errorf("ParseValuePath(%s) err = %v, want %s", tt.path, err, tt.scimType)
			continue
		}
		if errors.Is(err, schema.ErrUnknownAttribute) != tt.unknown {
			t.Errorf("ParseValuePath(%s): wraps ErrUnknownAttribute = %v", tt.path, !tt.unknown)
		}
	}
}
