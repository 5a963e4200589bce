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
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAbandonedRequestIsNoServerError: a client that disconnects while its write is on the
// way to the API server (its request context cancelled) is no unexpected 500. Nothing is
// logged as an error; the request line goes to V(1) with status 499; a client still listening
// would get 503 with Retry-After.
func TestAbandonedRequestIsNoServerError(t *testing.T) {
	s, err := New(testMgr, Options{TokenFile: tokenFile})
	if err != nil {
		t.Fatal(err)
	}
	var logs logCapture
	s.log = logs.logger()

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone
	body := fmt.Sprintf(`{"userName": %q}`, uniq(t, "gone"))
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/scim/v2/Users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)

	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("answer %d (Retry-After %q), want 503 with Retry-After: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	var requestLine *logLine
	for _, l := range logs.all() {
		if l.isErr {
			t.Errorf("logged as an error: %q %v", l.msg, l.values)
		}
		if l.values["status"] != "" {
			requestLine = &l
		}
	}
	if requestLine == nil || requestLine.level != 1 || requestLine.values["status"] != "499" {
		t.Errorf("want the request line at V(1) with status 499; logs:\n%s", &logs)
	}
}

// TestRequestLogLine: each request is logged once at V(1) (info level is for what a person acts
// on), with status and token name, and never with the query string, which holds userNames.
func TestRequestLogLine(t *testing.T) {
	s, err := New(testMgr, Options{TokenFile: tokenFile})
	if err != nil {
		t.Fatal(err)
	}
	var logs logCapture
	s.log = logs.logger()
	req := httptest.NewRequest(http.MethodGet, `/scim/v2/Users?filter=userName%20eq%20%22alice%40example.com%22`, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var lines []logLine
	for _, l := range logs.all() {
		if l.msg == "SCIM request" {
			lines = append(lines, l)
		}
		// client-go's own request dumps at V(8) are debugging output.
		if l.level <= 1 && strings.Contains(fmt.Sprint(l.msg, l.values), "alice") {
			t.Errorf("the query string is logged: %q %v", l.msg, l.values)
		}
	}
	if len(lines) != 1 || lines[0].level != 1 || lines[0].values["status"] != "200" || lines[0].values["token"] != "okta" {
		t.Errorf("want one request line at V(1) with status 200 and token okta; logs:\n%s", &logs)
	}
}
