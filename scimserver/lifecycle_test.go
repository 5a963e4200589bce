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
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// lifecycleServer is a server on a free port whose cache "syncs" when synced is closed, and
// whose SCIM handler is replaced by handler.
func lifecycleServer(t *testing.T, opts Options, handler http.Handler) (s *Server, synced chan struct{}) {
	t.Helper()
	opts.BindAddress, opts.TokenFile = "127.0.0.1:0", tokenFile
	s, err := New(testMgr, opts)
	if err != nil {
		t.Fatal(err)
	}
	synced = make(chan struct{})
	s.waitCache = func(ctx context.Context) bool {
		select {
		case <-synced:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if handler != nil {
		s.handler = handler
	}
	return s, synced
}

// start runs s.Start until the returned stop is called; stop returns Start's error and how long
// the shutdown took.
func start(t *testing.T, s *Server) (stop func() (time.Duration, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(cancel)
	waitFor := time.Now().Add(30 * time.Second)
	for boundAddr(s) == "" {
		if time.Now().After(waitFor) {
			t.Fatal("the SCIM server did not listen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return func() (time.Duration, error) {
		began := time.Now()
		cancel()
		select {
		case err := <-done:
			return time.Since(began), err
		case <-time.After(30 * time.Second):
			t.Fatal("Start did not return")
			return 0, nil
		}
	}
}

func boundAddr(s *Server) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// send is callURL for other goroutines: it reports transport errors instead of failing.
func send(base, path string) (response, error) {
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	// A new connection each time, as a client the load balancer sends elsewhere.
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out, nil
}

// Until its tokens are loaded and its cache has synced the server answers every request with a
// SCIM 503 and Retry-After, and is not ready; then it serves.
func TestServesUnavailableUntilReady(t *testing.T) {
	s, synced := lifecycleServer(t, Options{}, nil)
	stop := start(t, s)
	base := "http://" + boundAddr(s)

	for _, path := range []string{"/scim/v2/Users", "/scim/v2/Users/some-id", "/scim/v2/ServiceProviderConfig"} {
		r := callURL(t, base, testToken, http.MethodGet, path, nil)
		r.expectError(t, http.StatusServiceUnavailable, "")
		if r.header.Get("Retry-After") == "" {
			t.Errorf("GET %s before the cache synced: 503 without Retry-After", path)
		}
	}
	if err := s.ReadyCheck(nil); err == nil {
		t.Error("ready before the cache synced")
	}
	if s.Addr() != "" {
		t.Errorf("Addr = %q before the server serves SCIM, want empty", s.Addr())
	}

	close(synced)
	deadline := time.Now().Add(30 * time.Second)
	for s.ReadyCheck(nil) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not ready after the cache synced: %v", s.ReadyCheck(nil))
		}
		time.Sleep(10 * time.Millisecond)
	}
	callURL(t, base, testToken, http.MethodGet, "/scim/v2/ServiceProviderConfig", nil).expect(t, http.StatusOK)
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
}

// On shutdown the server is unready at once, keeps serving for the delay, then refuses new
// connections; running requests finish until the deadline, and those still running then (an
// API call hanging on etcd) are answered 503 with Retry-After, never cut.
func TestShutdownDrains(t *testing.T) {
	var (
		hanging atomic.Int64
		s       *Server
	)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang": // an API call that only ends when its context does
			hanging.Add(1)
			<-r.Context().Done()
			writeError(r.Context(), w, r.Context().Err())
		case "/slow": // finishes well within the deadline
			hanging.Add(1)
			time.Sleep(300 * time.Millisecond)
			writeJSON(w, http.StatusCreated, map[string]any{"id": "slow"})
		case "/stubborn": // ignores its context and succeeds just after the deadline
			hanging.Add(1)
			<-s.aborted.Done()
			time.Sleep(100 * time.Millisecond)
			writeJSON(w, http.StatusCreated, map[string]any{"id": "stubborn"})
		default:
			writeJSON(w, http.StatusOK, map[string]any{})
		}
	})
	opts := Options{ShutdownDelay: 2 * time.Second, ShutdownTimeout: 4 * time.Second}
	s, synced := lifecycleServer(t, opts, handler)
	close(synced)
	stop := start(t, s)
	base := "http://" + boundAddr(s)
	for s.ReadyCheck(nil) != nil {
		time.Sleep(10 * time.Millisecond)
	}

	type answer struct {
		r   response
		err error
	}
	inflight := map[string]chan answer{}
	for _, path := range []string{"/hang", "/slow", "/stubborn"} {
		ch := make(chan answer, 1)
		inflight[path] = ch
		go func() {
			r, err := send(base, path)
			ch <- answer{r, err}
		}()
	}
	for hanging.Load() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	stopped := make(chan time.Duration, 1)
	go func() {
		took, err := stop()
		if err != nil {
			t.Errorf("Start: %v", err)
		}
		stopped <- took
	}()

	deadline := time.Now().Add(opts.ShutdownDelay / 2)
	for s.ReadyCheck(nil) == nil {
		if time.Now().After(deadline) {
			t.Fatal("still ready after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Within the delay, a new connection is still served, and told to close.
	req, err := http.NewRequest(http.MethodGet, base+"/fast", nil)
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		t.Fatalf("a request within the shutdown delay: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf("a request within the shutdown delay: status %d, connection kept open %t; want 200 and Connection: close", resp.StatusCode, !resp.Close)
	}

	want := map[string]int{"/hang": http.StatusServiceUnavailable, "/slow": http.StatusCreated, "/stubborn": http.StatusCreated}
	for path, ch := range inflight {
		a := <-ch
		if a.err != nil {
			t.Errorf("%s in flight at shutdown: %v (the connection was cut)", path, a.err)
			continue
		}
		if a.r.status != want[path] {
			t.Errorf("%s in flight at shutdown: status %d, want %d; body %s", path, a.r.status, want[path], a.r.raw)
		}
		if path == "/hang" {
			a.r.expectError(t, http.StatusServiceUnavailable, "")
			if a.r.header.Get("Retry-After") == "" {
				t.Error("/hang answered 503 without Retry-After")
			}
		}
	}
	if took := <-stopped; took > opts.ShutdownTimeout+abortGrace+time.Second {
		t.Errorf("shutdown took %s, want about %s", took, opts.ShutdownTimeout)
	}
	if _, err := send(base, "/fast"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("a new connection after shutdown: %v, want connection refused", err)
	}
}
