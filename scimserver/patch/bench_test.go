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
