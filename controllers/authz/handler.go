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
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Path is where the webhook answers SubjectAccessReviews.
const Path = "/authorize"

// reviewAPIVersion is the only SubjectAccessReview version accepted (the
// AuthorizationConfiguration sets subjectAccessReviewVersion: v1).
var reviewAPIVersion = authzv1.SchemeGroupVersion.String()

// handler serves Path. It authenticates the caller, bounds the body and the decision's time,
// and answers denied or no opinion, never allowed.
type handler struct {
	authz        *authorizer
	token        []byte // accepted bearer token; nil accepts client certificates only
	maxBodyBytes int64
	timeout      time.Duration
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !h.authenticated(r) {
		refusedTotal.WithLabelValues("unauthenticated").Inc()
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost {
		refusedTotal.WithLabelValues("bad_request").Inc()
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var review authzv1.SubjectAccessReview
	if status, err := decode(w, r, h.maxBodyBytes, &review); err != nil {
		refusedTotal.WithLabelValues("bad_request").Inc()
		http.Error(w, err.Error(), status)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	d := h.authz.decide(ctx, &review.Spec)
	if d.err != nil {
		// The user is not logged: it is personal data, and the error says what failed.
		ctrl.LoggerFrom(ctx).Error(d.err, "Answering a SubjectAccessReview with no opinion")
	}
	resp := authzv1.SubjectAccessReview{
		TypeMeta: metav1.TypeMeta{APIVersion: reviewAPIVersion, Kind: "SubjectAccessReview"},
		Status:   authzv1.SubjectAccessReviewStatus{Allowed: false, Denied: d.denied, Reason: d.reason},
	}
	if d.err != nil {
		resp.Status.EvaluationError = d.err.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&resp)
	decisionsTotal.WithLabelValues(d.label()).Inc()
	decisionSeconds.Observe(time.Since(start).Seconds())
}

// authenticated accepts a client certificate that verified against the client CA (the TLS
// listener verifies any certificate given) or the configured bearer token.
func (h *handler) authenticated(r *http.Request) bool {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return true
	}
	if len(h.token) == 0 {
		return false
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(token), h.token) == 1
}

// decode reads a SubjectAccessReview of at most maxBytes bytes, returning the HTTP status to
// refuse it with.
func decode(w http.ResponseWriter, r *http.Request, maxBytes int64, review *authzv1.SubjectAccessReview) (int, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return http.StatusUnsupportedMediaType, errors.New("content type must be application/json")
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBytes)).Decode(review); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return http.StatusRequestEntityTooLarge, errors.New("request body too large")
		}
		return http.StatusBadRequest, errors.New("request body is not a SubjectAccessReview")
	}
	if review.APIVersion != reviewAPIVersion || review.Kind != "SubjectAccessReview" {
		return http.StatusBadRequest, errors.New("want an authorization.k8s.io/v1 SubjectAccessReview")
	}
	return 0, nil
}
