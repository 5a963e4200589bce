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

func TestProject(t *testing.T) {
	const ent = EnterpriseUserURN
	res := `{"schemas":["` + UserURN + `"],"id":"u1","userName":"alice","password":"leaked",
		"name":{"givenName":"Alice","familyName":"Doe"},
		"emails":[{"value":"a@x","type":"work","primary":true},{"value":"b@x","type":"home"}],
		"meta":{"resourceType":"User","version":"W/\"1\""},
		"` + ent + `":{"department":"R&D","manager":{"value":"m1"}},
		"urn:okta:custom:1.0:User":{"k":"v"}}`
	tests := []struct {
		name             string
		attributes, excl []string
		want             string
	}{
		{"default drops returned=never", nil, nil,
			`{"schemas":["` + UserURN + `"],"id":"u1","userName":"alice","name":{"givenName":"Alice","familyName":"Doe"},
			  "emails":[{"value":"a@x","type":"work","primary":true},{"value":"b@x","type":"home"}],
			  "meta":{"resourceType":"User","version":"W/\"1\""},
			  "` + ent + `":{"department":"R&D","manager":{"value":"m1"}},"urn:okta:custom:1.0:User":{"k":"v"}}`},
		{"attributes keeps id and schemas", []string{"userName"}, nil,
			`{"schemas":["` + UserURN + `"],"id":"u1","userName":"alice"}`},
		{"comma separated, any case, sub-attributes merged", []string{"NAME.givenName, emails.value", "emails.type"}, nil,
			`{"schemas":["` + UserURN + `"],"id":"u1","name":{"givenName":"Alice"},"emails":[{"value":"a@x","type":"work"},{"value":"b@x","type":"home"}]}`},
		{"extension attribute", []string{ent + ":manager.value"}, nil,
			`{"schemas":["` + UserURN + `"],"id":"u1","` + ent + `":{"manager":{"value":"m1"}}}`},
		{"whole extension", []string{ent}, nil,
			`{"schemas":["` + UserURN + `"],"id":"u1","` + ent + `":{"department":"R&D","manager":{"value":"m1"}}}`},
		{"password cannot be requested", []string{"password", "userName"}, nil,
			`{"schemas":["` + UserURN + `"],"id":"u1","userName":"alice"}`},
		{"excluded", nil, []string{"emails", "name.familyName", ent + ":department", "id", "meta"},
			`{"schemas":["` + UserURN + `"],"id":"u1","userName":"alice","name":{"givenName":"Alice"},
			  "` + ent + `":{"manager":{"value":"m1"}},"urn:okta:custom:1.0:User":{"k":"v"}}`},
		{"excluded sub-attribute of multi-valued", nil, []string{"emails.primary", ent, "meta", "name"},
			`{"schemas":["` + UserURN + `"],"id":"u1","userName":"alice","emails":[{"value":"a@x","type":"work"},{"value":"b@x","type":"home"}],
			  "urn:okta:custom:1.0:User":{"k":"v"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := obj(t, res)
			got, err := Project(UserResource, in, tt.attributes, tt.excl)
			if err != nil {
				t.Fatalf("Project: %v", err)
			}
			if !equalJSON(t, got, obj(t, tt.want)) {
				t.Errorf("got  %v\nwant %s", got, tt.want)
			}
			if !equalJSON(t, in, obj(t, res)) {
				t.Errorf("input modified")
			}
		})
	}
}

func TestProjectUnknownAttribute(t *testing.T) {
	for _, lists := range [][2][]string{{{"bogus"}, nil}, {nil, {"name.bogus"}}, {{"urn:x:y:z"}, nil}} {
		_, err := Project(UserResource, map[string]any{"id": "x"}, lists[0], lists[1])
		if !errors.Is(err, ErrUnknownAttribute) || scimType(err) != ScimTypeInvalidValue {
			t.Errorf("Project(%v) err = %v, want invalidValue wrapping ErrUnknownAttribute", lists, err)
		}
	}
}

func TestErrorf(t *testing.T) {
	err := Errorf(400, ScimTypeInvalidPath, "path %q: %w", "x.y", ErrUnknownAttribute)
	if !errors.Is(err, ErrUnknownAttribute) {
		t.Error("errors.Is through *Error failed")
	}
	if err.Status != 400 || err.ScimType != ScimTypeInvalidPath || err.Detail != `path "x.y": unknown attribute` {
		t.Errorf("got %+v", err)
	}
	var wrapped error = err
	var se *Error
	if !errors.As(wrapped, &se) || se != err {
		t.Error("errors.As failed")
	}
	if (&Error{Status: 404, Detail: "gone"}).Error() != "scim 404: gone" {
		t.Error("Error() without scimType")
	}
}
