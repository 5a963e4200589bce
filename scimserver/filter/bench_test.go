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

const benchFilter = `userType eq "Employee" and (emails[type eq "work" and value co "@example.com"] or ` +
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Tour Operations")`

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse(schema.UserResource, benchFilter); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	f, err := Parse(schema.UserResource, benchFilter)
	if err != nil {
		b.Fatal(err)
	}
	res := obj(b, alice)
	for b.Loop() {
		if !f.Match(res) {
			b.Fatal("no match")
		}
	}
}
