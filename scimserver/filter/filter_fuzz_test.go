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
	"testing"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// FuzzParse checks that no filter text makes Parse, Match, IndexHint or ParseValuePath panic,
// and that a parsed filter never errors.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`userName Eq "john"`,
		`name.familyName co "O'Malley"`,
		`userName sw "J"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley"`,
		`title pr`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`meta.lastModified ge "2011-05-13T04:42:34Z"`,
		`meta.lastModified lt "2011-05-13T04:42:34Z"`,
		`meta.lastModified le "2011-05-13T04:42:34Z"`,
		`title pr and userType eq "Employee"`,
		`title pr or userType eq "Intern"`,
		`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
		`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		`userType eq "Employee" and (emails.type eq "work")`,
		`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`externalId eq "x"`,
		`emails[type eq "work"].value eq "x"`,
		`displayName eq "x"`,
		`active eq "True"`,
		`meta.Created gt 2015-10-10T14:38:21.8617979-07:00`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m"`,
		`members[value eq "a" or value eq "b"]`,
		`title eq "\u00e9\"\\"`,
	} {
		f.Add(seed)
	}
	res := map[string]any{
		"id": "1", "userName": "john", "active": true, "title": "x",
		"emails": []any{map[string]any{"type": "work", "value": "j@example.com"}},
		"meta":   map[string]any{"lastModified": "2011-05-13T04:42:34Z"},
	}
	f.Fuzz(func(t *testing.T, s string) {
		if flt, err := Parse(schema.UserResource, s); err == nil {
			flt.Match(res)
			flt.IndexHint()
		} else if _, ok := err.(*schema.Error); !ok {
			t.Fatalf("Parse(%q) error %T is not *schema.Error", s, err)
		}
		if _, elem, _, err := ParseValuePath(schema.UserResource, s); err == nil && elem != nil {
			elem.MatchElement(map[string]any{"type": "work"})
		}
	})
}
