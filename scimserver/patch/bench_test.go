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

func BenchmarkParseAndApplyEntraUpdate(b *testing.B) {
	body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.com"},
		{"op":"Replace","path":"name.familyName","value":"Doe"},
		{"op":"Replace","path":"active","value":"False"},
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m-2"}]}`)
	res := obj(b, storedUser)
	for b.Loop() {
		ops, err := ParseRequest(body, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Apply(schema.UserResource, res, ops); err != nil {
			b.Fatal(err)
		}
	}
}
