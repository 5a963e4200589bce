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
	"testing"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// FuzzParseAndApply checks that no request body makes ParseRequest, ExtractMemberOps or
// Apply panic, that every error is a *schema.Error, and that Apply leaves its input alone.
func FuzzParseAndApply(f *testing.F) {
	for _, seed := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
		`{"Operations":[{"op":"replace","value":{"active":false}}]}`,
		`{"Operations":[{"op":"replace","value":{"id":"u-1","displayName":"x","members":[{"value":"a"}]}}]}`,
		`{"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@x"}]}`,
		`{"Operations":[{"op":"Replace","value":{"name.givenName":"A","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"D"}}]}`,
		`{"Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":[{"value":"m","$ref":"x"}]}]}`,
		`{"Operations":[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]}`,
		`{"Operations":[{"op":"remove","path":"members[value eq \"a\" or value eq \"b\"]"}]}`,
		`{"Operations":[{"op":"remove","path":"emails[type eq \"work\"].primary"},{"op":"add","path":"name","value":{"familyName":"F"}}]}`,
		`{"Operations":[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]}`,
		`{"Operations":[{"op":"Add","path":"manager","value":[{"$ref":null,"value":"m2"}]},{"op":"Remove","path":"manager[value eq \"m\"]"}]}`,
		`{"Operations":[{"op":"replace","path":"department","value":"D"},{"op":"add","path":"name[givenName eq \"A\"].familyName","value":"F"}]}`,
		`{"Operations":[{"op":"add","path":"emails","value":[{"value":"b@x","primary":true}]},{"op":"replace","path":"emails[value eq \"a@x\"].primary","value":"True"}]}`,
	} {
		f.Add(seed)
	}
	stored := `{"id":"u-1","userName":"alice","name":{"givenName":"A"},"active":true,
		"emails":[{"value":"a@x","type":"work","primary":true}],"members":[{"value":"u1"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m"}}}`
	f.Fuzz(func(t *testing.T, body string) {
		ops, err := ParseRequest([]byte(body), 50)
		if err != nil {
			if _, ok := err.(*schema.Error); !ok {
				t.Fatalf("ParseRequest error %T is not *schema.Error", err)
			}
			return
		}
		rest, _, err := ExtractMemberOps(ops)
		if err != nil {
			if _, ok := err.(*schema.Error); !ok {
				t.Fatalf("ExtractMemberOps error %T is not *schema.Error", err)
			}
			rest = ops
		}
		for _, rt := range []*schema.ResourceType{schema.UserResource, schema.GroupResource} {
			res := obj(t, stored)
			if _, err := Apply(rt, res, rest); err != nil {
				if _, ok := err.(*schema.Error); !ok {
					t.Fatalf("Apply error %T is not *schema.Error: %v", err, err)
				}
			}
			if !jsonEqual(t, res, stored) {
				t.Fatalf("Apply modified its input")
			}
		}
	})
}
