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

package authz

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestHandler(t *testing.T) {
	a := testAuthorizer(t, []client.Object{scimUser("bob", "bob@example.com", ptr.To(false)), scimUser("alice", "alice@example.com", ptr.To(true))})
	h := &handler{authz: a, token: []byte("s3cret"), maxBodyBytes: 1024, timeout: time.Second}
	review := func(user string) string {
		return `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"` + user + `","resourceAttributes":{"verb":"get","resource":"pods"}}}`
	}
	verified := &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{}}}}
	tests := []struct {
		name, method, auth, body string
		tls                      *tls.ConnectionState
		status                   int
		denied                   bool
	}{
		{name: "token, inactive user", auth: "Bearer s3cret", body: review(testPrefix + "bob@example.com"), status: 200, denied: true},
		{name: "token, active user", auth: "Bearer s3cret", body: review(testPrefix + "alice@example.com"), status: 200},
		{name: "client certificate", tls: verified, body: review(testPrefix + "bob@example.com"), status: 200, denied: true},
		{name: "no credentials", body: review(testPrefix + "bob@example.com"), status: 401},
		{name: "wrong token", auth: "Bearer s3cre", body: review(testPrefix + "bob@example.com"), status: 401},
		{name: "unverified TLS", tls: &tls.ConnectionState{}, body: review(testPrefix + "bob@example.com"), status: 401},
		{name: "GET", method: http.MethodGet, auth: "Bearer s3cret", status: 405},
		{name: "too large", auth: "Bearer s3cret", body: review(strings.Repeat("x", 2048)), status: 413},
		{name: "not JSON", auth: "Bearer s3cret", body: "{", status: 400},
		{name: "other kind", auth: "Bearer s3cret", body: `{"apiVersion":"authorization.k8s.io/v1beta1","kind":"SubjectAccessReview","spec":{"user":"x"}}`, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, Path, strings.NewReader(tt.body))
			req.TLS = tt.tls
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				return
			}
			var resp authzv1.SubjectAccessReview
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.APIVersion != "authorization.k8s.io/v1" || resp.Kind != "SubjectAccessReview" {
				t.Errorf("response type %s %s", resp.APIVersion, resp.Kind)
			}
			if resp.Status.Allowed || resp.Status.Denied != tt.denied {
				t.Errorf("status %+v, want allowed false, denied %v", resp.Status, tt.denied)
			}
		})
	}
}
