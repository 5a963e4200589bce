package schema

import "testing"

func BenchmarkNormalizeEntraUser(b *testing.B) {
	res := obj(b, `{"schemas":["`+UserURN+`","`+EnterpriseUserURN+`"],"externalId":"e","userName":"alice@example.com","active":"True",
		"emails":[{"primary":"true","type":"work","value":"alice@example.com"}],"meta":{"resourceType":"User"},
		"name":{"familyName":"Jensen","givenName":"Alice"},"title":"Guide",
		"`+EnterpriseUserURN+`":{"department":"R&D","manager":"m-1"}}`)
	for b.Loop() {
		if _, err := Normalize(UserResource, res); err != nil {
			b.Fatal(err)
		}
	}
}
