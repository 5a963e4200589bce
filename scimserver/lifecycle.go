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
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Lifecycle. The listener opens before anything else, and until the tokens are loaded and the
// cache has synced every request is answered 503 with Retry-After: an IdP never meets a refused
// connection, nor a 401 or 404 from a server that does not know its tokens or objects yet, and
// ReadyCheck keeps Services away meanwhile. On shutdown ReadyCheck fails first, the server keeps
// serving for ShutdownDelay, stops accepting, lets requests finish until ShutdownTimeout and
// answers 503 to those still running then. An unreachable API server changes none of this: it
// only turns writes into 503s.

// notReadyRetryAfter is what a request that arrives before the server is ready is told to wait.
const notReadyRetryAfter = 5 * time.Second

// abortGrace is how long requests get to write their 503 once the shutdown deadline has passed.
const abortGrace = 2 * time.Second

// MaxDrain is the longest a drain with the given ShutdownTimeout takes: the requests cut short
// at the deadline get abortGrace to write their 503.
func MaxDrain(shutdownTimeout time.Duration) time.Duration { return shutdownTimeout + abortGrace }

// waitLogInterval is how often a server still waiting for its token Secret says so.
const waitLogInterval = 30 * time.Second

// AddToManager adds the server to mgr in two parts: the listener, which the manager starts with
// its HTTP servers, before its caches, so that the port answers at once (503 until ready); and
// the server itself, which the manager starts once its caches have synced and stops before them,
// so that the drain still reads a live cache.
func (s *Server) AddToManager(mgr manager.Manager) error {
	if err := s.listen(); err != nil {
		return err
	}
	timeout := s.opts.ShutdownTimeout
	if err := mgr.Add(&manager.Server{Name: "scim", Server: s.srv, Listener: s.ln, ShutdownTimeout: &timeout}); err != nil {
		return fmt.Errorf("adding the SCIM listener: %w", err)
	}
	if err := mgr.Add(s); err != nil {
		return fmt.Errorf("adding the SCIM server: %w", err)
	}
	return nil
}

// ReadyCheck is the server's /readyz check: ready once its tokens are loaded and the cache has
// synced, until shutdown begins. An unreachable API server does not make it unready: the server
// then answers writes with 503, which IdPs retry, and reads from the cache.
func (s *Server) ReadyCheck(*http.Request) error {
	switch {
	case s.draining.Load():
		return errors.New("the SCIM server is shutting down")
	case !s.ready.Load():
		return errors.New("the SCIM server is loading its tokens and cache")
	}
	return nil
}

// becomeReady loads the tokens, waits for the token Secret and the cache to sync, and then lets
// requests through. It returns nil without becoming ready if ctx ends first.
func (s *Server) becomeReady(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx)
	if s.opts.TokenFile != "" {
		// New has loaded it; the watch reloads it if it changed since.
		go s.watchTokenFile(ctx, s.tokenFileContent)
	}
	if s.opts.TokenSecret.Name != "" {
		synced, err := s.watchTokenSecret(ctx)
		if err != nil {
			return err
		}
		// Without its tokens the server would answer 401 to the IdP: it waits, unready.
		for !waitFor(ctx, waitLogInterval, synced) {
			if ctx.Err() != nil {
				return nil
			}
			log.Error(nil, "Token Secret not readable yet; answering 503 until it is", "secret", s.opts.TokenSecret.String())
		}
	}
	if err := s.repo.FollowCacheEvents(ctx, s.informers); err != nil {
		// Writes still read their own writes, by polling the cache; list pages sort every object.
		log.Error(err, "Not following cache events; polling the cache after writes")
	}
	// Before the cache has synced the server would answer "no such user" and make IdPs create
	// duplicates.
	if !s.waitCache(ctx) {
		return nil
	}
	s.ready.Store(true)
	log.Info("Serving SCIM", "address", s.Addr(), "tokens", s.tokens.count())
	return nil
}

// waitFor waits up to d for synced, and reports whether it returned true.
func waitFor(ctx context.Context, d time.Duration, synced toolscache.InformerSynced) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return toolscache.WaitForCacheSync(ctx.Done(), synced)
}

// lifecycleHandler answers 503 until the server is ready, and lets the SCIM handler answer
// afterwards, with 503 for what the shutdown deadline cuts short.
func (s *Server) lifecycleHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			writeError(r.Context(), w, unavailable("the SCIM server is starting; retry later", notReadyRetryAfter))
			return
		}
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		// At the shutdown deadline the request's API calls are cancelled, and the error they
		// end in is answered as 503.
		stop := context.AfterFunc(s.aborted, cancel)
		defer stop()
		aw := &abortableWriter{ResponseWriter: w, ctx: ctx, aborted: s.aborted}
		s.handler.ServeHTTP(aw, r.WithContext(ctx))
		if s.aborted.Err() != nil && !aw.wroteHeader {
			aw.answerUnavailable()
		}
	})
}

// abortableWriter turns the server error a request cut short by the shutdown deadline ends in
// into 503 with Retry-After: the IdP retries on another replica. Answers the handler completed
// (a 201, a 404) pass unchanged, whenever they come.
type abortableWriter struct {
	http.ResponseWriter
	ctx         context.Context
	aborted     context.Context
	wroteHeader bool
	replaced    bool
}

func (w *abortableWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code >= http.StatusInternalServerError && w.aborted.Err() != nil {
		w.answerUnavailable()
		return
	}
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *abortableWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *abortableWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *abortableWriter) answerUnavailable() {
	w.wroteHeader, w.replaced = true, true
	w.ResponseWriter.Header().Del("Content-Length")
	writeError(w.ctx, w.ResponseWriter, unavailable("the SCIM server is shutting down; retry", 0))
}

// drain shuts the server down within ShutdownTimeout: ReadyCheck fails at once, requests are
// still served for ShutdownDelay (with keep-alives off, so clients reconnect elsewhere), then
// the listener closes and running requests may finish until the deadline; those still running
// are cancelled and answered 503.
func (s *Server) drain(log logr.Logger) error {
	deadline := time.Now().Add(s.opts.ShutdownTimeout)
	s.draining.Store(true)
	if s.srv == nil {
		return nil
	}
	log.Info("Shutting down SCIM server", "delay", s.opts.ShutdownDelay.String(), "timeout", s.opts.ShutdownTimeout.String())
	s.srv.SetKeepAlivesEnabled(false)
	time.Sleep(s.opts.ShutdownDelay)

	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Info("Answering the SCIM requests still running with 503", "requests", s.inFlight.Load())
		s.abort()
		waitUntil(time.Now().Add(abortGrace), func() bool { return s.inFlight.Load() == 0 })
		// Whatever is left (a response still being written) is cut now.
		if err = s.srv.Close(); errors.Is(err, net.ErrClosed) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("shutting down the SCIM server: %w", err)
	}
	log.Info("SCIM server stopped")
	return nil
}

// waitUntil polls done until it is true or the deadline passes.
func waitUntil(deadline time.Time, done func() bool) {
	for !done() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}
