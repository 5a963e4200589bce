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
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
)

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name   string
		header string
		status int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Authorization: Bearer nope", http.StatusUnauthorized},
		{"token prefix", "Authorization: Bearer " + testToken[:10], http.StatusUnauthorized},
		{"basic scheme", "Authorization: Basic " + testToken, http.StatusUnauthorized},
		{"file token name:token", "Authorization: Bearer " + testToken, http.StatusOK},
		{"file token name=token", "Authorization: Bearer " + otherToken, http.StatusOK},
		{"lower-case scheme", "Authorization: bearer " + testToken, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.header != "" {
				headers = append(headers, tt.header)
			}
			r := callURL(t, serverURL, "", http.MethodGet, "/scim/v2/Users?count=1", nil, headers...)
			if tt.status == http.StatusUnauthorized {
				r.expectError(t, http.StatusUnauthorized, "")
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q, want Bearer", r.header.Get("WWW-Authenticate"))
				}
				return
			}
			r.expect(t, tt.status)
		})
	}
}

func TestRouting(t *testing.T) {
	id := createUser(t, uniq(t, "route"), nil)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/scim/v2/users", http.StatusOK, ""},
		{http.MethodGet, "/scim/v2/Users/", http.StatusOK, ""},
		{http.MethodGet, "/scim/v2/USERS/" + id, http.StatusOK, ""},
		{http.MethodGet, "/scim/v2/Users/" + id + "/", http.StatusOK, ""},
		{http.MethodGet, "/scim/v2/groups/", http.StatusOK, ""},
		{http.MethodGet, "/scim/v2/Users/does-not-exist", http.StatusNotFound, ""},
		{http.MethodGet, "/scim/v2/Users/%20", http.StatusNotFound, ""},
		{http.MethodGet, "/scim/v2/Users/" + id + "/extra", http.StatusNotFound, ""},
		{http.MethodGet, "/scim/v2/Groups/" + id, http.StatusNotFound, ""},
		{http.MethodGet, "/scim/v2/Nope", http.StatusNotFound, ""},
		{http.MethodGet, "/scim/v2", http.StatusNotFound, ""},
		{http.MethodGet, "/other", http.StatusNotFound, ""},
		{http.MethodDelete, "/scim/v2/Users", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodPost, "/scim/v2/Users/" + id, http.StatusMethodNotAllowed, "GET, PUT, PATCH, DELETE"},
		{http.MethodGet, "/scim/v2/Users/.search", http.StatusMethodNotAllowed, "POST"},
		{http.MethodGet, "/scim/v2/.search", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPost, "/scim/v2/Schemas", http.StatusMethodNotAllowed, "GET"},
		{http.MethodGet, "/scim/v2/Bulk", http.StatusMethodNotAllowed, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var body any
			if tt.method == http.MethodPost {
				body = map[string]any{}
			}
			r := call(t, tt.method, tt.path, body)
			if tt.status >= 400 {
				r.expectError(t, tt.status, "")
			} else {
				r.expect(t, tt.status)
			}
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}

func TestRequestLimitsAndSyntax(t *testing.T) {
	big := `{"userName":"` + strings.Repeat("x", 300<<10) + `"}`
	tests := []struct {
		name        string
		body        string
		contentType string
		status      int
		scimType    string
	}{
		{"body over the limit", big, "application/scim+json", http.StatusRequestEntityTooLarge, "tooLarge"},
		{"not JSON", "{nope", "application/scim+json", http.StatusBadRequest, "invalidSyntax"},
		{"JSON array", "[]", "application/json", http.StatusBadRequest, "invalidSyntax"},
		{"unsupported media type", `{"userName":"x"}`, "text/plain", http.StatusUnsupportedMediaType, "invalidSyntax"},
		{"missing userName", `{"displayName":"x"}`, "application/json; charset=utf-8", http.StatusBadRequest, "invalidValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call(t, http.MethodPost, "/scim/v2/Users", tt.body, "Content-Type: "+tt.contentType).
				expectError(t, tt.status, tt.scimType)
		})
	}
	t.Run("too many PATCH operations", func(t *testing.T) {
		id := createUser(t, uniq(t, "ops"), nil)
		ops := make([]any, DefaultMaxPatchOperations+1)
		for i := range ops {
			ops[i] = map[string]any{"op": "replace", "path": "title", "value": "t"}
		}
		call(t, http.MethodPatch, "/scim/v2/Users/"+id, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops,
		}).expectError(t, http.StatusBadRequest, "invalidValue")
	})
	t.Run("unknown attributes, excludedAttributes and sortBy, even when nothing matches", func(t *testing.T) {
		none := url.QueryEscape(`userName eq "` + uniq(t, "nobody") + `"`)
		for _, q := range []string{"attributes=bogus", "excludedAttributes=bogus", "sortBy=bogus"} {
			call(t, http.MethodGet, "/scim/v2/Groups?"+q, nil).expectError(t, http.StatusBadRequest, "invalidValue")
			call(t, http.MethodGet, "/scim/v2/Users?filter="+none+"&"+q, nil).expectError(t, http.StatusBadRequest, "invalidValue")
		}
	})
	t.Run("filter too long", func(t *testing.T) {
		f := `userName eq "` + strings.Repeat("a", DefaultMaxSearchFilterLength) + `"`
		call(t, http.MethodPost, "/scim/v2/Users/.search", map[string]any{"filter": f}).
			expectError(t, http.StatusBadRequest, "invalidFilter")
	})
}

func TestRateLimit(t *testing.T) {
	base := "http://" + limitedSrv.Addr()
	// Burst 2 at 1 request/second: the third immediate request is refused.
	var last response
	for range 3 {
		last = callURL(t, base, testToken, http.MethodGet, "/scim/v2/ServiceProviderConfig", nil)
	}
	last.expectError(t, http.StatusTooManyRequests, "")
	if last.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// The limit is per token: another token still gets through.
	callURL(t, base, otherToken, http.MethodGet, "/scim/v2/ServiceProviderConfig", nil).expect(t, http.StatusOK)
}

func TestTokenFileReload(t *testing.T) {
	const added = "added-token-0123456789abcdef01234567"
	callURL(t, serverURL, added, http.MethodGet, "/scim/v2/Schemas", nil).expect(t, http.StatusUnauthorized)
	original, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(tokenFile, original, 0o600) })
	if err := os.WriteFile(tokenFile, append(append([]byte{}, original...), []byte("extra:"+added+"\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if r := callURL(t, serverURL, added, http.MethodGet, "/scim/v2/Schemas", nil); r.status != http.StatusOK {
			return errStatus(r.status)
		}
		return nil
	})
	// Removing it from the file revokes it.
	if err := os.WriteFile(tokenFile, original, 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if r := callURL(t, serverURL, added, http.MethodGet, "/scim/v2/Schemas", nil); r.status != http.StatusUnauthorized {
			return errStatus(r.status)
		}
		return nil
	})
}

func TestTokenSecretWatched(t *testing.T) {
	ctx := context.Background()
	const secretToken = "secret-token-abcdef0123456789abcdef"
	check := func(want int) {
		t.Helper()
		eventually(t, 10*time.Second, func() error {
			if r := callURL(t, serverURL, secretToken, http.MethodGet, "/scim/v2/ResourceTypes", nil); r.status != want {
				return errStatus(r.status)
			}
			return nil
		})
	}
	check(http.StatusUnauthorized)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: tokenKey.Name, Namespace: tokenKey.Namespace},
		Data:       map[string][]byte{"entra-prod": []byte(secretToken + "\n")},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, secret) })
	check(http.StatusOK)
	// A Secret of another name in the same namespace is not a token source.
	other := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "unrelated", Namespace: tokenKey.Namespace},
		Data:       map[string][]byte{"x": []byte("unrelated-token-0000000000000000000")},
	}
	if err := k8sClient.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, other) })
	time.Sleep(500 * time.Millisecond)
	callURL(t, serverURL, "unrelated-token-0000000000000000000", http.MethodGet, "/scim/v2/Schemas", nil).expect(t, http.StatusUnauthorized)
	// Removing the key revokes the token without a restart.
	secret.Data = map[string][]byte{"someone-else": []byte("another-token-123456789012345678901")}
	if err := k8sClient.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	check(http.StatusUnauthorized)
}

// TestShortTokensRefused loads a token file and a token Secret that each hold one token shorter
// than 32 bytes next to a strong one: the short ones are refused (and counted, by source), the
// strong ones still work.
func TestShortTokensRefused(t *testing.T) {
	ctx := context.Background()
	weakFile, strongFile := "weak-file-token-0123", "strong-file-token-"+strings.Repeat("f", 32)
	weakSecret, strongSecret := "weak-secret-token-01", "strong-secret-token-"+strings.Repeat("s", 32)
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("weak:"+weakFile+"\nstrong:"+strongFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: tokenKey.Namespace, Name: "short-tokens"}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace},
		Data:       map[string][]byte{"weak-idp": []byte(weakSecret), "strong-idp": []byte(strongSecret)},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, secret) })

	// A server of its own: the test manager's cache holds only the suite's token Secret.
	s := startOnManager(t, ctrl.Options{}, Options{BindAddress: "127.0.0.1:0", TokenFile: file, TokenSecret: key,
		FailedAuthRate: 1000, FailedAuthBurst: 1000})
	base := "http://" + s.Addr()
	eventually(t, 10*time.Second, func() error {
		if r := callURL(t, base, strongSecret, http.MethodGet, "/scim/v2/Schemas", nil); r.status != http.StatusOK {
			return errStatus(r.status)
		}
		return nil
	})
	callURL(t, base, strongFile, http.MethodGet, "/scim/v2/Schemas", nil).expect(t, http.StatusOK)
	callURL(t, base, weakFile, http.MethodGet, "/scim/v2/Schemas", nil).expectError(t, http.StatusUnauthorized, "")
	callURL(t, base, weakSecret, http.MethodGet, "/scim/v2/Schemas", nil).expectError(t, http.StatusUnauthorized, "")
	for _, source := range []string{tokenSourceFile, tokenSourceSecret} {
		if got := gaugeValue(t, tokensRejectedGauge.WithLabelValues(source)); got != 1 {
			t.Errorf("kubescim_scim_tokens_rejected{source=%q} = %v, want 1", source, got)
		}
	}

	// The log names the refused token, never its value.
	var logs logCapture
	strong := strongTokens(logs.logger(), tokenSourceFile, map[string]string{"weak": weakFile, "strong": strongFile})
	if len(strong) != 1 || strong["strong"] != strongFile {
		t.Errorf("strong tokens %v", strong)
	}
	lines := logs.all()
	if len(lines) != 1 || !lines[0].isErr || lines[0].values["token"] != "weak" || lines[0].values["source"] != tokenSourceFile {
		t.Fatalf("log lines:\n%s", &logs)
	}
	if strings.Contains(logs.String(), weakFile) {
		t.Errorf("the refused token's value is logged:\n%s", &logs)
	}
}

// startServer runs s (created with BindAddress 127.0.0.1:0) until the test ends and returns its
// base URL.
func startServer(t *testing.T, s *Server) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- s.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("SCIM server stopped: %v", err)
		}
	})
	eventually(t, 30*time.Second, func() error {
		if s.Addr() == "" {
			return errors.New("not serving yet")
		}
		return nil
	})
	return "http://" + s.Addr()
}

// gaugeValue reads the current value of a gauge.
func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

type errStatus int

func (e errStatus) Error() string { return "status " + http.StatusText(int(e)) }

func TestParseTokenFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    map[string]string
		wantErr bool
	}{
		{"colon", "okta:abc\n", map[string]string{"okta": "abc"}, false},
		{"equals and comments", "# tokens\nentra=xyz\n\nokta : abc\n", map[string]string{"entra": "xyz", "okta": "abc"}, false},
		{"bare token", "c2VjcmV0dG9rZW4=\n", map[string]string{"default": "c2VjcmV0dG9rZW4="}, false},
		{"bare base64 with padding", "abc==", map[string]string{"default": "abc=="}, false},
		{"name with padded token", "idp=abc==", map[string]string{"idp": "abc=="}, false},
		{"two bare lines", "abc\ndef\n", nil, true},
		{"duplicate names", "a:1\na:2\n", nil, true},
		{"empty", "", map[string]string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTokenFile([]byte(tt.content))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("token %q = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	spc := call(t, http.MethodGet, "/scim/v2/ServiceProviderConfig", nil).expect(t, http.StatusOK)
	if p, _ := spc.body["patch"].(map[string]any); p["supported"] != true {
		t.Errorf("patch.supported = %v", spc.body["patch"])
	}
	if b, _ := spc.body["bulk"].(map[string]any); b["supported"] != true || b["maxOperations"] != float64(DefaultMaxBulkOperations) {
		t.Errorf("bulk = %v, want supported with maxOperations", spc.body["bulk"])
	}
	if f, _ := spc.body["filter"].(map[string]any); f["supported"] != true || f["maxResults"] != float64(500) {
		t.Errorf("filter = %v, want supported with maxResults 500", spc.body["filter"])
	}

	rts := call(t, http.MethodGet, "/scim/v2/ResourceTypes", nil).expect(t, http.StatusOK)
	resources, _ := rts.body["Resources"].([]any)
	if len(resources) != 2 || resources[0].(map[string]any)["endpoint"] != "/Users" {
		t.Errorf("ResourceTypes = %s", rts.raw)
	}
	call(t, http.MethodGet, "/scim/v2/ResourceTypes/Group", nil).expect(t, http.StatusOK)
	call(t, http.MethodGet, "/scim/v2/ResourceTypes/Nope", nil).expectError(t, http.StatusNotFound, "")

	sch := call(t, http.MethodGet, "/scim/v2/Schemas", nil).expect(t, http.StatusOK)
	if sch.body["totalResults"] != float64(3) || !strings.Contains(sch.raw, "User Account") {
		t.Errorf("Schemas = %s", sch.raw)
	}
	one := call(t, http.MethodGet, "/scim/v2/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", nil).expect(t, http.StatusOK)
	if one.str("id") != "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" {
		t.Errorf("schema id %q", one.str("id"))
	}
	call(t, http.MethodGet, "/scim/v2/Schemas/urn:nope", nil).expectError(t, http.StatusNotFound, "")
}

// TestShortTokenLoggedOnce: a refused token is logged once per load of its source, not once
// when the server is created and again when it starts.
func TestShortTokenLoggedOnce(t *testing.T) {
	ctx := context.Background()
	weak, strong := "weak-once-token-0123", "strong-once-token-"+strings.Repeat("o", 32)
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("weak-file:"+weak+"\nstrong:"+strong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: tokenKey.Namespace, Name: "short-once"}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace},
		Data:       map[string][]byte{"weak-secret": []byte(weak)},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, secret) })

	var logs logCapture
	s := startOnManager(t, ctrl.Options{Logger: logs.logger()},
		Options{BindAddress: "127.0.0.1:0", TokenFile: file, TokenSecret: key, FailedAuthRate: 1000, FailedAuthBurst: 1000})
	callURL(t, "http://"+s.Addr(), strong, http.MethodGet, "/scim/v2/Schemas", nil).expect(t, http.StatusOK)
	refused := map[string]int{}
	for _, l := range logs.all() {
		if strings.HasPrefix(l.msg, "Refusing a SCIM bearer token") {
			refused[l.values["token"]]++
		}
	}
	if refused["weak-file"] != 1 || refused["weak-secret"] != 1 || len(refused) != 2 {
		t.Errorf("refusals logged %v, want each weak token once:\n%s", refused, &logs)
	}
}
