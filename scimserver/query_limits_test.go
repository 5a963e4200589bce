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

package scimserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLongQueriesAnswerSCIMErrors: a query string over MaxQueryBytes gets a SCIM 414 pointing
// to POST .search (also past the 64 KiB where Go used to answer a plain-text 431), a GET filter
// over MaxFilterLength a SCIM 400, and the same long filter works through POST .search.
func TestLongQueriesAnswerSCIMErrors(t *testing.T) {
	prefix := uniq(t, "long")
	var ids, terms []string
	for i := range 3 {
		ids = append(ids, createUser(t, fmt.Sprintf("%s-%d", prefix, i), nil))
		terms = append(terms, fmt.Sprintf("id eq %q", ids[i]))
	}
	// Pad with terms that match nobody, past MaxQueryBytes once escaped.
	for i := 0; len(strings.Join(terms, " or ")) < MaxQueryBytes; i++ {
		terms = append(terms, fmt.Sprintf(`userName eq "%s-nobody-%04d"`, prefix, i))
	}
	long := strings.Join(terms, " or ")

	for _, query := range []string{
		"filter=" + url.QueryEscape(long),
		"filter=" + url.QueryEscape(long) + "&x=" + strings.Repeat("y", 100<<10),
	} {
		r := call(t, http.MethodGet, "/scim/v2/Users?"+query, nil)
		r.expectError(t, http.StatusRequestURITooLong, "")
		if detail := r.str("detail"); !strings.Contains(detail, "POST .search") {
			t.Errorf("detail %q does not point to POST .search", detail)
		}
	}
	// Under the query string limit, but over the GET filter limit.
	mid := strings.Join(terms[:3], " or ") + " or " + `userName eq "` + strings.Repeat("z", DefaultMaxFilterLength) + `"`
	r := call(t, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(mid), nil)
	r.expectError(t, http.StatusBadRequest, "invalidFilter")
	if !strings.Contains(r.str("detail"), "POST .search") {
		t.Errorf("detail %q does not point to POST .search", r.str("detail"))
	}

	for _, path := range []string{"/scim/v2/Users/.search", "/scim/v2/.search"} {
		for _, f := range []string{long, mid} {
			res := call(t, http.MethodPost, path, map[string]any{
				"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": f,
			}).expect(t, http.StatusOK)
			if res.body["totalResults"] != float64(3) {
				t.Errorf("POST %s with a %d-character filter: %v results, want 3", path, len(f), res.body["totalResults"])
			}
		}
	}
}
