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

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/hack/tcpproxy"
)

const (
	waitTimeout = 60 * time.Second
	testToken   = "main-test-token-0123456789abcdef0123456789"
)

var (
	testCfg   *rest.Config
	k8s       client.Client
	tokenFile string
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run KUBEBUILDER_ASSETS=$(hack/setup-envtest.sh) go test .")
		return 1
	}
	var log logr.Logger = logr.Discard()
	if os.Getenv("KUBESCIM_TEST_LOG") != "" {
		log = funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{})
	}
	ctrl.SetLogger(log)
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	testCfg = cfg
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kubescim-main-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	tokenFile = filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// instance is kubescim run in-process with the given command line, exactly as main runs it.
type instance struct {
	scimURL, probeURL string
	requests          *requestLog
	done              chan struct{}
	err               error
}

// startInstance runs kubescim with args (plus free SCIM and probe addresses and the test token)
// against the API server at cfg, recording every request it makes to it.
func startInstance(t *testing.T, cfg *rest.Config, args ...string) *instance {
	t.Helper()
	scimAddr, probeAddr := freeAddr(t), freeAddr(t)
	fs := flag.NewFlagSet("kubescim", flag.ContinueOnError)
	c := bindFlags(fs, false)
	args = append([]string{"--scim-bind-address=" + scimAddr, "--health-probe-bind-address=" + probeAddr,
		"--metrics-bind-address=0", "--scim-token-file=" + tokenFile, "--shutdown-delay=0"}, args...)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := c.complete(); err != nil {
		t.Fatal(err)
	}
	in := &instance{scimURL: "http://" + scimAddr + "/scim/v2", probeURL: "http://" + probeAddr,
		requests: &requestLog{}, done: make(chan struct{})}
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(in.requests.wrap)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(in.done)
		in.err = run(ctx, c, cfg)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-in.done:
			if in.err != nil {
				t.Errorf("kubescim %v: %v", args, in.err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("kubescim %v did not stop", args)
		}
	})
	return in
}

func (in *instance) running() bool {
	select {
	case <-in.done:
		return false
	default:
		return true
	}
}

// get sends a GET and returns the status, headers and body.
func get(url string, token string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body, err
}

func (in *instance) waitReady(t *testing.T) {
	t.Helper()
	eventually(t, "kubescim ready", func() error {
		if !in.running() {
			return fmt.Errorf("kubescim stopped: %v", in.err)
		}
		status, _, body, err := get(in.probeURL+"/readyz", "")
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("/readyz: %d %s", status, body)
		}
		return nil
	})
}

func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, waitTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// requestLog records the requests a client makes to the API server, as "VERB /path".
type requestLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		verb := req.Method
		if req.URL.Query().Get("watch") == "true" {
			verb = "WATCH"
		}
		l.mu.Lock()
		l.lines = append(l.lines, verb+" "+req.URL.Path)
		l.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// matching returns the recorded requests whose line contains any of substrings.
func (l *requestLog) matching(substrings ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if slices.ContainsFunc(substrings, func(s string) bool { return strings.Contains(line, s) }) {
			out = append(out, line)
		}
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The SCIM component alone caches only users and groups and never touches RBAC, namespaces,
// ServiceAccounts, bindings, status or a Lease; the controllers component alone opens no SCIM
// port and does the reconciling. Together they are the two-component install.
func TestComponentsRunApart(t *testing.T) {
	scim := startInstance(t, testCfg, "--components=scim")
	ctl := startInstance(t, testCfg, "--components=controllers", "--leader-elect", "--leader-election-namespace=default",
		"--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=2s", "--leader-elect-retry-period=250ms")
	scim.waitReady(t)
	ctl.waitReady(t)

	req, err := http.NewRequest(http.MethodPost, scim.scimURL+"/Users", strings.NewReader(`{"userName":"apart@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating a user through the SCIM component: %d", resp.StatusCode)
	}
	eventually(t, "the controllers component reconciles the user", func() error {
		var u scimv1alpha1.ScimUser
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: scimv1alpha1.ObjectNameFor("apart@example.com")}, &u); err != nil {
			return err
		}
		if u.Status.ObservedGeneration != u.Generation {
			return fmt.Errorf("status.observedGeneration %d, generation %d", u.Status.ObservedGeneration, u.Generation)
		}
		return nil
	})

	if got := scim.requests.matching("rbac.authorization.k8s.io", "/serviceaccounts", "/namespaces", "/leases",
		"scimgroupbindings", "/status"); len(got) > 0 {
		t.Errorf("the SCIM component made requests outside its job: %v", got)
	}
	for _, want := range []string{"WATCH /apis/scim.kubescim.io/v1alpha1/scimusers", "WATCH /apis/scim.kubescim.io/v1alpha1/scimgroups"} {
		if len(scim.requests.matching(want)) == 0 {
			t.Errorf("the SCIM component did not %s", want)
		}
	}
	if len(ctl.requests.matching("/leases/"+leaseName)) == 0 {
		t.Error("the controllers component did not take part in leader election")
	}
	u, err := url.Parse(ctl.scimURL)
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", u.Host); !errors.Is(err, syscall.ECONNREFUSED) {
		if conn != nil {
			_ = conn.Close()
		}
		t.Errorf("connecting to the controllers component's SCIM address: %v, want connection refused", err)
	}
}

// Startup needs no API server: without one the process waits, alive and not ready, and its
// SCIM port answers 503 with Retry-After; once the API server is reachable it becomes ready.
func TestStartsWithoutTheAPIServer(t *testing.T) {
	api, err := url.Parse(testCfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := tcpproxy.New(api.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	proxy.Cut()
	viaProxy := rest.CopyConfig(testCfg)
	viaProxy.Host = "https://" + proxy.Addr()

	in := startInstance(t, viaProxy, "--leader-elect", "--leader-election-namespace=default")
	eventually(t, "SCIM answers 503 while the API server is unreachable", func() error {
		if !in.running() {
			return fmt.Errorf("kubescim stopped: %v", in.err)
		}
		status, header, body, err := get(in.scimURL+"/Users", testToken)
		if err != nil {
			return err
		}
		var doc struct {
			Schemas []string `json:"schemas"`
			Status  string   `json:"status"`
		}
		if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" ||
			json.Unmarshal(body, &doc) != nil || doc.Status != "503" ||
			!slices.Contains(doc.Schemas, "urn:ietf:params:scim:api:messages:2.0:Error") {
			return fmt.Errorf("GET /Users: %d, Retry-After %q, %s", status, header.Get("Retry-After"), body)
		}
		return nil
	})
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusInternalServerError} {
		if status, _, body, err := get(in.probeURL+path, ""); err != nil || status != want {
			t.Errorf("%s while the API server is unreachable: %d %s %v, want %d", path, status, body, err, want)
		}
	}
	if !in.running() {
		t.Fatalf("kubescim stopped without an API server: %v", in.err)
	}

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	in.waitReady(t)
	if status, _, body, err := get(in.scimURL+"/Users", testToken); err != nil || status != http.StatusOK {
		t.Errorf("GET /Users once the API server is back: %d %s %v", status, body, err)
	}
}
