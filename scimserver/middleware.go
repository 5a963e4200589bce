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
)

type tokenNameKey struct{}

// tokenNameFrom returns the name of the bearer token that authenticated the request.
func tokenNameFrom(ctx context.Context) string {
	name, _ := ctx.Value(tokenNameKey{}).(string)
	return name
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

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

// buildHandler wraps the router with logging, panic recovery, authentication, rate limiting and
// the body limit, in that order.
func (s *Server) buildHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		log := s.log.WithValues("method", r.Method, "path", r.URL.Path)
		ctx := ctrl.LoggerInto(r.Context(), log)
		token := ""
		defer func() {
			if p := recover(); p != nil {
				log.Error(fmt.Errorf("panic: %v", p), "Panic serving SCIM request")
				writeError(ctx, rec, schema.Errorf(http.StatusInternalServerError, "", "internal error"))
			}
			// One line per request; no query string (filters hold emails and names).
			log.Info("SCIM request", "status", rec.status, "duration", time.Since(start).String(), "token", token)
		}()

		name, ok := s.authenticate(r)
		if !ok {
			writeError(ctx, rec, schema.Errorf(http.StatusUnauthorized, "", "a valid bearer token is required"))
			return
		}
		token = name
		if allowed, wait := s.limiter.allow(name); !allowed {
			writeError(ctx, rec, &retryableError{
				scim:  schema.Errorf(http.StatusTooManyRequests, "", "too many requests; retry later"),
				after: wait,
			})
			return
		}
		r.Body = http.MaxBytesReader(rec, r.Body, s.opts.MaxBodyBytes)
		ctx = context.WithValue(ctx, tokenNameKey{}, name)
		s.route(rec, r.WithContext(ctx))
	})
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
