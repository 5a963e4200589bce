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
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestServer serves a fresh Server (own limiters, the suite's token file and store) with
// httptest and returns it with its base URL.
func newTestServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	opts.TokenFile = tokenFile
	s, err := New(testMgr, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs.URL
}

// bulkPostUsers is a BulkRequest creating one user per userName.
func bulkPostUsers(userNames ...string) map[string]any {
	ops := make([]any, len(userNames))
	for i, n := range userNames {
		ops[i] = map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprintf("u%d", i), "data": map[string]any{"userName": n}}
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": ops}
}

func bulkResults(t *testing.T, r response) []map[string]any {
	t.Helper()
	r.expect(t, http.StatusOK)
	var out []map[string]any
	for _, op := range r.body["Operations"].([]any) {
		out = append(out, op.(map[string]any))
	}
	return out
}

// userExists reports whether SCIM knows userName.
func userExists(t *testing.T, userName string) bool {
	t.Helper()
	r := call(t, http.MethodGet, "/scim/v2/Users?count=0&filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", userName)), nil).expect(t, http.StatusOK)
	return r.body["totalResults"] == float64(1)
}

// TestBulkCountsEveryOperationAgainstTheRateLimit: a bulk request cannot carry more operations
// past the per-token limit than single requests could. The bucket (burst 3, refilling once in
// 1,000 s) holds 3 requests.
func TestBulkCountsEveryOperationAgainstTheRateLimit(t *testing.T) {
	_, base := newTestServer(t, Options{RateLimit: 0.001, RateBurst: 3})

	spc := callURL(t, base, testToken, http.MethodGet, "/scim/v2/ServiceProviderConfig", nil).expect(t, http.StatusOK)
	if b, _ := spc.body["bulk"].(map[string]any); b["maxOperations"] != float64(3) {
		t.Errorf("advertised bulk = %v, want maxOperations 3 (the burst)", spc.body["bulk"])
	}
	// Over maxOperations: refused whole, before anything runs.
	tooMany := []string{uniq(t, "a"), uniq(t, "b"), uniq(t, "c"), uniq(t, "d")}
	callURL(t, base, otherToken, http.MethodPost, "/scim/v2/Bulk", bulkPostUsers(tooMany...)).
		expectError(t, http.StatusRequestEntityTooLarge, "tooMany")

	// One request used (the discovery GET above): the bulk request pays for its first operation,
	// the second takes the last token, the third is over the limit and not attempted.
	names := []string{uniq(t, "first"), uniq(t, "second"), uniq(t, "third")}
	ops := bulkResults(t, callURL(t, base, testToken, http.MethodPost, "/scim/v2/Bulk", bulkPostUsers(names...)))
	if len(ops) != 3 || ops[0]["status"] != "201" || ops[1]["status"] != "201" || ops[2]["status"] != "429" {
		t.Fatalf("bulk results %v, want 201, 201, 429", ops)
	}
	if resp, _ := ops[2]["response"].(map[string]any); !strings.Contains(fmt.Sprint(resp["detail"]), "not attempted") {
		t.Errorf("429 result %v", ops[2])
	}
	if !userExists(t, names[1]) || userExists(t, names[2]) {
		t.Errorf("the first two users must exist and the third not")
	}
	// The bucket is empty: the next request is refused outright.
	callURL(t, base, testToken, http.MethodPost, "/scim/v2/Bulk", bulkPostUsers(uniq(t, "late"))).
		expectError(t, http.StatusTooManyRequests, "")
}

// TestBulkStopsWithinItsTimeBudget runs a bulk request on a clock that moves 20 s at every
// reading: the request arrives at 0 s, operations start at 20 s and 40 s, and at 60 s the
// 50 s budget (the 60 s write timeout less 10 s to answer) is used up, so the last two
// operations are reported failed and never run.
func TestBulkStopsWithinItsTimeBudget(t *testing.T) {
	s, base := newTestServer(t, Options{})
	clock := &steppingClock{t: time.Now(), step: 20 * time.Second}
	s.now = clock.now

	names := []string{uniq(t, "in-time-1"), uniq(t, "in-time-2"), uniq(t, "late-1"), uniq(t, "late-2")}
	ops := bulkResults(t, callURL(t, base, testToken, http.MethodPost, "/scim/v2/Bulk", bulkPostUsers(names...)))
	if len(ops) != 4 {
		t.Fatalf("%d results, want all 4 reported: %v", len(ops), ops)
	}
	for i, want := range []string{"201", "201", "503", "503"} {
		if ops[i]["status"] != want {
			t.Errorf("operation %d: status %v, want %s (%v)", i, ops[i]["status"], want, ops[i])
		}
	}
	if ops[3]["bulkId"] != "u3" {
		t.Errorf("a failed operation must carry its bulkId: %v", ops[3])
	}
	if !userExists(t, names[1]) || userExists(t, names[2]) || userExists(t, names[3]) {
		t.Error("only the operations inside the budget may have run")
	}
}

// TestBulkPayloadLimitAdvertisedIsEnforced: maxPayloadSize is the body limit, to the byte.
func TestBulkPayloadLimitAdvertisedIsEnforced(t *testing.T) {
	_, base := newTestServer(t, Options{MaxBodyBytes: 2048})
	spc := callURL(t, base, testToken, http.MethodGet, "/scim/v2/ServiceProviderConfig", nil).expect(t, http.StatusOK)
	bulk, _ := spc.body["bulk"].(map[string]any)
	if bulk["maxPayloadSize"] != float64(2048) || bulk["maxOperations"] != float64(DefaultMaxBulkOperations) {
		t.Fatalf("advertised bulk = %v", bulk)
	}
	body := func(size int) string {
		head := `{"Operations":[{"method":"DELETE","path":"/Users/nobody"}],"pad":"`
		return head + strings.Repeat("x", size-len(head)-2) + `"}`
	}
	ops := bulkResults(t, callURL(t, base, testToken, http.MethodPost, "/scim/v2/Bulk", body(2048)))
	if len(ops) != 1 || ops[0]["status"] != "404" {
		t.Errorf("a body of exactly maxPayloadSize: %v", ops)
	}
	callURL(t, base, testToken, http.MethodPost, "/scim/v2/Bulk", body(2049)).
		expectError(t, http.StatusRequestEntityTooLarge, "tooLarge")
}

// steppingClock returns a time that moves by step at every reading.
type steppingClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *steppingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}
