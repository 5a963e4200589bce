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
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kubescim/kubescim/scimserver/schema"
	"github.com/kubescim/kubescim/scimserver/store"
)

// tokenNameFrom returns the name of the bearer token that authenticated the request, which
// the store records as the changer of what the request writes.
func tokenNameFrom(ctx context.Context) string { return store.ChangedBy(ctx) }

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status    int
	abandoned bool // the request was cancelled, normally because the client went away
}

func (r *statusRecorder) abandon() { r.abandoned = true }

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// statusClientClosedRequest (nginx's 499) is what the request log shows for a request whose
// client went away before the answer was ready; it is never sent.
const statusClientClosedRequest = 499

type requestStartKey struct{}

// requestStart returns when the server began serving the request.
func requestStart(ctx context.Context) time.Time {
	if t, ok := ctx.Value(requestStartKey{}).(time.Time); ok {
		return t
	}
	return time.Now()
}

// instrument counts and times every request h answers (the 503s of a server that is not ready
// or shuts down included) under the route template of its path.
func (s *Server) instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		rec := &statusRecorder{ResponseWriter: w}
		route := s.match(r).route
		defer func() {
			code := rec.status
			if code == 0 {
				code = http.StatusOK // net/http answers 200 for a handler that wrote nothing
			}
			observeRequest(route, r.Method, code, s.now().Sub(start))
		}()
		h.ServeHTTP(rec, r)
	})
}

// buildHandler wraps the router with logging, panic recovery, the failed-authentication limit
// per client address, authentication, the rate limit per token, the query string limit and the
// body limit, in that order.
func (s *Server) buildHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		rec := &statusRecorder{ResponseWriter: w}
		log := s.log.WithValues("method", r.Method, "path", r.URL.Path)
		ctx := ctrl.LoggerInto(r.Context(), log)
		ctx = context.WithValue(ctx, requestStartKey{}, start)
		token := ""
		defer func() {
			if p := recover(); p != nil {
				log.Error(fmt.Errorf("panic: %v", p), "Panic serving SCIM request")
				writeError(ctx, rec, schema.Errorf(http.StatusInternalServerError, "", "internal error"))
			}
			// One line per request at V(1): info level is for what a person acts on, and
			// kubescim_scim_requests_total counts requests. No query string (filters hold
			// emails and names).
			duration := s.now().Sub(start).String()
			if rec.abandoned {
				log.V(1).Info("SCIM request abandoned by the client", "status", statusClientClosedRequest, "duration", duration, "token", token)
				return
			}
			log.V(1).Info("SCIM request", "status", rec.status, "duration", duration, "token", token)
		}()

		name, ok := s.admit(ctx, rec, r)
		token = name
		if !ok {
			return
		}
		if len(r.URL.RawQuery) > MaxQueryBytes {
			writeError(ctx, rec, schema.Errorf(http.StatusRequestURITooLong, "",
				"the query string is longer than %d bytes; send the query as a SearchRequest with POST .search (RFC 7644 §3.4.3)", MaxQueryBytes))
			return
		}
		r.Body = http.MaxBytesReader(rec, r.Body, s.opts.MaxBodyBytes)
		ctx = store.WithChangedBy(ctx, name)
		s.route(rec, r.WithContext(ctx))
	})
}

// admit authenticates the request within the failed-authentication limit of its client address
// and then applies its token's rate limit. It returns the token's name; when it refuses the
// request, it has answered it.
func (s *Server) admit(ctx context.Context, w http.ResponseWriter, r *http.Request) (string, bool) {
	client := s.clientAddress(r)
	// Charged before the token is looked at, so that concurrent guesses cannot overrun the
	// limit; refunded below when the token is valid.
	if ok, wait := s.failures.attempt(client, time.Now()); !ok {
		authFailuresTotal.WithLabelValues("throttled").Inc()
		writeError(ctx, w, &retryableError{
			scim:  schema.Errorf(http.StatusTooManyRequests, "", "too many failed authentications from this address; retry later"),
			after: wait,
		})
		return "", false
	}
	name, ok := s.authenticate(r)
	if !ok {
		authFailuresTotal.WithLabelValues("unauthorized").Inc()
		writeError(ctx, w, schema.Errorf(http.StatusUnauthorized, "", "a valid bearer token is required"))
		return "", false
	}
	s.failures.succeeded(client, time.Now())
	if allowed, wait := s.limiter.allow(name); !allowed {
		rateLimitedTotal.WithLabelValues(name).Inc()
		writeError(ctx, w, &retryableError{
			scim:  schema.Errorf(http.StatusTooManyRequests, "", "too many requests; retry later"),
			after: wait,
		})
		return name, false
	}
	return name, true
}

func (s *Server) authenticate(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", false
	}
	return s.tokens.authenticate(token)
}
