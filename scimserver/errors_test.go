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
	"net/http/httptest"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestAPIErrorMapping(t *testing.T) {
	gr := schema.GroupResource{Group: "scim.kubescim.io", Resource: "scimusers"}
	tests := []struct {
		name       string
		err        error
		status     int
		scimType   string
		retryAfter string
	}{
		{"already exists", apierrors.NewAlreadyExists(gr, "x"), http.StatusConflict, "uniqueness", ""},
		{"conflict", apierrors.NewConflict(gr, "x", errors.New("changed")), http.StatusConflict, "", ""},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: gr.Group, Kind: "ScimUser"}, "x",
			field.ErrorList{field.TooLong(field.NewPath("spec", "title"), "", 256)}), http.StatusBadRequest, "invalidValue", ""},
		{"not found", apierrors.NewNotFound(gr, "x"), http.StatusNotFound, "", ""},
		{"forbidden", apierrors.NewForbidden(gr, "x", errors.New("rbac")), http.StatusInternalServerError, "", ""},
		{"throttled", apierrors.NewTooManyRequests("slow down", 7), http.StatusServiceUnavailable, "", "7"},
		{"server timeout", apierrors.NewServerTimeout(gr, "update", 2), http.StatusServiceUnavailable, "", "2"},
		{"unavailable", apierrors.NewServiceUnavailable("etcd down"), http.StatusServiceUnavailable, "", "5"},
		{"client deadline", fmt.Errorf("updating: %w", context.DeadlineExceeded), http.StatusServiceUnavailable, "", "5"},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, http.StatusServiceUnavailable, "", "5"},
		{"anything else", errors.New("boom"), http.StatusInternalServerError, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeError(context.Background(), rec, tt.err)
			r := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
			_ = decodeJSON(rec.Body.Bytes(), &r.body)
			r.expectError(t, tt.status, tt.scimType)
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			if tt.status == http.StatusInternalServerError && r.body["detail"] != "internal error" {
				t.Errorf("500 detail leaks the cause: %v", r.body["detail"])
			}
		})
	}
}
