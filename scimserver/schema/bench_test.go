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
