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
	"errors"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		rt   *ResourceType
		in   string
		want string
		err  error
	}{
		{UserResource, "userName", "userName", nil},
		{UserResource, "USERNAME", "userName", nil},
		{UserResource, "name.givenName", "name.givenName", nil},
		{UserResource, "NAME.GIVENNAME", "name.givenName", nil},
		{UserResource, "emails.value", "emails.value", nil},
		{UserResource, " meta.lastModified ", "meta.lastModified", nil},
		{UserResource, "urn:ietf:params:scim:schemas:core:2.0:User:userName", "userName", nil},
		{UserResource, "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:name.familyName", "name.familyName", nil},
		{UserResource, EnterpriseUserURN + ":manager.value", EnterpriseUserURN + ":manager.value", nil},
		{UserResource, EnterpriseUserURN + ":department", EnterpriseUserURN + ":department", nil},
		{UserResource, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:DEPARTMENT", EnterpriseUserURN + ":department", nil},
		{GroupResource, "displayName", "displayName", nil},
		{GroupResource, "members.value", "members.value", nil},
		{GroupResource, "members.$ref", "members.$ref", nil},
		{GroupResource, "urn:ietf:params:scim:schemas:core:2.0:Group:displayName", "displayName", nil},

		{UserResource, "bogus", "", ErrUnknownAttribute},
		{UserResource, "name.bogus", "", ErrUnknownAttribute},
		{UserResource, "userName.bogus", "", ErrUnknownAttribute},
		{UserResource, "urn:okta:custom:1.0:User:foo", "", ErrUnknownAttribute},
		{UserResource, EnterpriseUserURN + ":bogus", "", ErrUnknownAttribute},
		{GroupResource, EnterpriseUserURN + ":department", "", ErrUnknownAttribute},
		{GroupResource, "userName", "", ErrUnknownAttribute},
		{UserResource, "", "", ErrInvalidPath},
		{UserResource, "name.", "", ErrInvalidPath},
		{UserResource, "name.givenName.x", "", ErrInvalidPath},
		{UserResource, `emails[type eq "work"]`, "", ErrInvalidPath},
		{UserResource, EnterpriseUserURN, "", ErrUnknownAttribute},
	}
	for _, tt := range tests {
		p, err := tt.rt.Resolve(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Resolve(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.in, err)
			continue
		}
		if p.String() != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.in, p.String(), tt.want)
		}
	}
}

func TestGet(t *testing.T) {
	res := obj(t, `{
		"userName": "alice", "name": {"givenName": "Alice"},
		"emails": [{"value": "a@x.io", "type": "work"}, {"value": "a@home.io"}, {"type": "other"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m1"}}
	}`)
	get := func(path string) any {
		p, err := UserResource.Resolve(path)
		if err != nil {
			t.Fatalf("Resolve(%q): %v", path, err)
		}
		return Get(res, p)
	}
	if got := get("USERNAME"); got != "alice" {
		t.Errorf("userName = %v", got)
	}
	if got := get("name.givenName"); got != "Alice" {
		t.Errorf("name.givenName = %v", got)
	}
	if got := get("emails.value"); !equalJSON(t, got, []any{"a@x.io", "a@home.io"}) {
		t.Errorf("emails.value = %v", got)
	}
	if got := get(EnterpriseUserURN + ":manager.value"); got != "m1" {
		t.Errorf("manager.value = %v", got)
	}
	for _, absent := range []string{"displayName", "name.familyName", "phoneNumbers.value", EnterpriseUserURN + ":department"} {
		if got := get(absent); got != nil {
			t.Errorf("%s = %v, want nil", absent, got)
		}
	}
}
