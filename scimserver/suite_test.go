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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// One envtest control plane and one manager for the whole package.
var (
	k8sClient  client.Client
	testMgr    ctrl.Manager
	srv        *Server // the server under test, started by the manager
	limitedSrv *Server // same store, with a low rate limit
	serverURL  string  // http://127.0.0.1:port
	tokenFile  string
	tokenKey   = types.NamespacedName{Namespace: "kubescim-system", Name: "scim-tokens"}
)

const (
	testToken  = "okta-token-6d1b0f3c9a2e4b7d5f8a1c3e"
	otherToken = "entra-token-9f8e7d6c5b4a3210fedcba98"
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run KUBEBUILDER_ASSETS=$(hack/setup-envtest.sh) go test ./scimserver/")
		return 1
	}
	if os.Getenv("SCIM_TEST_LOG") != "" {
		ctrl.SetLogger(funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{}))
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  cache.Options{ByObject: CacheByObject(Options{TokenSecret: tokenKey})},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating manager:", err)
		return 1
	}
	testMgr = mgr
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := v1alpha1.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		fmt.Fprintln(os.Stderr, "indexes:", err)
		return 1
	}
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	if err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tokenKey.Namespace}}); err != nil {
		fmt.Fprintln(os.Stderr, "namespace:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "scimserver-test")
	if err != nil {
		return 1
	}
	defer os.RemoveAll(dir)
	tokenFile = filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokenFile, []byte("okta:"+testToken+"\nentra="+otherToken+"\n"), 0o600); err != nil {
		return 1
	}
	// Tests poll with tokens that are not valid yet; the failed-authentication limit has its
	// own tests, on servers of their own.
	srv, err = New(mgr, Options{
		BindAddress:     "127.0.0.1:0",
		TokenFile:       tokenFile,
		TokenSecret:     tokenKey,
		MaxBodyBytes:    256 << 10,
		MaxResults:      500,
		FailedAuthRate:  1000,
		FailedAuthBurst: 1000,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "New:", err)
		return 1
	}
	limitedSrv, err = New(mgr, Options{BindAddress: "127.0.0.1:0", TokenFile: tokenFile, RateLimit: 1, RateBurst: 2,
		FailedAuthRate: 1000, FailedAuthBurst: 1000})
	if err != nil {
		fmt.Fprintln(os.Stderr, "New (limited):", err)
		return 1
	}
	for _, s := range []*Server{srv, limitedSrv} {
		if err := mgr.Add(s); err != nil {
			return 1
		}
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for srv.Addr() == "" || limitedSrv.Addr() == "" {
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "SCIM server did not start")
			return 1
		}
		time.Sleep(20 * time.Millisecond)
	}
	serverURL = "http://" + srv.Addr()
	return m.Run()
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call sends a SCIM request with the test token. body may be a string (sent as is) or a value
// (JSON-encoded). Extra headers are given as "Name: value".
func call(t testing.TB, method, path string, body any, headers ...string) response {
	t.Helper()
	return callURL(t, serverURL, testToken, method, path, body, headers...)
}

func callURL(t testing.TB, base, token, method, path string, body any, headers ...string) response {
	t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case []byte:
		reader = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encoding body: %v", err)
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, reader)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	given := map[string]bool{}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		k, v = http.CanonicalHeaderKey(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch {
		case k == "Host":
			req.Host = v // net/http sends req.Host, not a Host header
		case given[k]:
			req.Header.Add(k, v) // a header given twice is sent twice
		default:
			req.Header.Set(k, v)
		}
		given[k] = true
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out.body)
	}
	return out
}

// expect fails the test unless the status matches; it prints the body.
func (r response) expect(t testing.TB, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.raw)
	}
	return r
}

// expectError checks a SCIM Error document.
func (r response) expectError(t testing.TB, status int, scimType string) {
	t.Helper()
	r.expect(t, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Errorf("Content-Type %q, want application/scim+json", ct)
	}
	schemas, _ := r.body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("schemas %v, want the Error URN; body %s", r.body["schemas"], r.raw)
	}
	if r.body["status"] != fmt.Sprint(status) {
		t.Errorf("status attribute %v, want %q", r.body["status"], fmt.Sprint(status))
	}
	if got, _ := r.body["scimType"].(string); got != scimType {
		t.Errorf("scimType %q, want %q; body %s", got, scimType, r.raw)
	}
}

func (r response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// uniq makes a name unique to the test, as tests share one store.
func uniq(t testing.TB, s string) string {
	return fmt.Sprintf("%s-%s-%d", s, strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-"), time.Now().UnixNano()%1_000_000)
}

// createUser creates a user through SCIM and returns its id.
func createUser(t testing.TB, userName string, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": userName}
	for k, v := range extra {
		body[k] = v
	}
	r := call(t, http.MethodPost, "/scim/v2/Users", body).expect(t, http.StatusCreated)
	return r.str("id")
}

// createGroup creates a group through SCIM and returns its id.
func createGroup(t testing.TB, displayName string, memberIDs ...string) string {
	t.Helper()
	members := []any{}
	for _, id := range memberIDs {
		members = append(members, map[string]any{"value": id})
	}
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": displayName, "members": members}
	r := call(t, http.MethodPost, "/scim/v2/Groups", body).expect(t, http.StatusCreated)
	return r.str("id")
}

// userByScimID reads the ScimUser with SCIM id id from the API server.
func userByScimID(t testing.TB, id string) *v1alpha1.ScimUser {
	t.Helper()
	var list v1alpha1.ScimUserList
	if err := k8sClient.List(context.Background(), &list); err != nil {
		t.Fatalf("listing users: %v", err)
	}
	for i := range list.Items {
		if v1alpha1.ScimID(&list.Items[i]) == id {
			return &list.Items[i]
		}
	}
	t.Fatalf("no ScimUser with SCIM id %s", id)
	return nil
}

// groupByScimID reads the ScimGroup with SCIM id id from the API server.
func groupByScimID(t testing.TB, id string) *v1alpha1.ScimGroup {
	t.Helper()
	var list v1alpha1.ScimGroupList
	if err := k8sClient.List(context.Background(), &list); err != nil {
		t.Fatalf("listing groups: %v", err)
	}
	for i := range list.Items {
		if v1alpha1.ScimID(&list.Items[i]) == id {
			return &list.Items[i]
		}
	}
	t.Fatalf("no ScimGroup with SCIM id %s", id)
	return nil
}

// memberIDs returns the member values of a Group resource.
func memberIDs(body map[string]any) map[string]bool {
	out := map[string]bool{}
	members, _ := body["members"].([]any)
	for _, m := range members {
		if e, ok := m.(map[string]any); ok {
			out[fmt.Sprint(e["value"])] = true
		}
	}
	return out
}

// eventually retries f until it returns nil or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func decodeJSON(raw []byte, v any) error { return json.Unmarshal(raw, v) }
