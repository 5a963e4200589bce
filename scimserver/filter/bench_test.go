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
	"fmt"
	"strings"
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

// BenchmarkParseLongest parses a filter of MaxFilterLength bytes of "or" terms, the worst a
// POST .search may send: the cost behind the 16 KiB limit.
func BenchmarkParseLongest(b *testing.B) {
	var terms []string
	for i := 0; len(strings.Join(terms, " or "))+40 < MaxFilterLength; i++ {
		terms = append(terms, fmt.Sprintf(`userName eq "nobody-%05d@example.com"`, i))
	}
	f := strings.Join(terms, " or ")
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		if _, err := Parse(schema.UserResource, f); err != nil {
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
