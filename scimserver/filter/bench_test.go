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
