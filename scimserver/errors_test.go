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
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	scimschema "github.com/kubescim/kubescim/scimserver/schema"
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
		{"unclassified server error", &apierrors.StatusError{ErrStatus: metav1.Status{
			Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Reason: metav1.StatusReasonUnknown,
			Message: "etcdserver: leader changed"}}, http.StatusServiceUnavailable, "", "5"},
		{"client deadline", fmt.Errorf("updating: %w", context.DeadlineExceeded), http.StatusServiceUnavailable, "", "5"},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, http.StatusServiceUnavailable, "", "5"},
		{"connection cut mid-request", &url.Error{Op: "Post", URL: "https://127.0.0.1:6443/apis", Err: io.ErrUnexpectedEOF},
			http.StatusServiceUnavailable, "", "5"},
		{"HTTP/2 connection lost", &url.Error{Op: "Post", URL: "https://127.0.0.1:6443/apis", Err: errors.New("http2: client connection lost")},
			http.StatusServiceUnavailable, "", "5"},
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

// TestInvalidDetailNamesAttributesNotObjects: validation errors from the API server are told
// by SCIM attribute, without the internal object name or the rejected value.
func TestInvalidDetailNamesAttributesNotObjects(t *testing.T) {
	kind := schema.GroupKind{Group: "scim.kubescim.io", Kind: "ScimUser"}
	const object = "alice-example-com-9105bf13ca"
	tests := []struct {
		name string
		errs field.ErrorList
		want string
	}{
		{"too long", field.ErrorList{field.TooLong(field.NewPath("spec", "title"), "", 256)},
			"title: Too long: may not be more than 256 bytes"},
		{"CEL rule on the spec", field.ErrorList{field.Invalid(field.NewPath("spec"), field.OmitValueType{}, "at most one email may be primary")},
			"Invalid value: at most one email may be primary"},
		{"CEL rule quoting the object", field.ErrorList{field.Invalid(field.NewPath("spec"), "object", "at most one email may be primary")},
			"Invalid value: at most one email may be primary"},
		{"number and null values", field.ErrorList{field.Invalid(field.NewPath("spec", "emails"), 33, "too many"),
			field.Invalid(nil, nil, "some rules were not checked")},
			"emails: Invalid value: too many; Invalid value: some rules were not checked"},
		{"pattern, with the value", field.ErrorList{field.Invalid(field.NewPath("spec", "userName"), "bad\nname: \"x\"",
			"spec.userName in body should match '^[^\\x00-\\x1f\\x7f]+$'")},
			"userName: Invalid value: userName in body should match '^[^\\x00-\\x1f\\x7f]+$'"},
		{"enterprise attribute and metadata", field.ErrorList{
			field.TooLong(field.NewPath("spec", "enterprise", "department"), "", 256),
			field.Invalid(field.NewPath("metadata", "name"), object, "a lowercase RFC 1123 subdomain"),
		}, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department: Too long: may not be more than 256 bytes; " +
			"Invalid value: a lowercase RFC 1123 subdomain"},
		{"no causes", nil, "the resource is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fromAPIError(context.Background(), apierrors.NewInvalid(kind, object, tt.errs))
			var se *scimschema.Error
			if !errors.As(err, &se) || se.ScimType != "invalidValue" {
				t.Fatalf("error %v, want invalidValue", err)
			}
			if se.Detail != tt.want {
				t.Errorf("detail %q\nwant   %q", se.Detail, tt.want)
			}
			for _, leak := range []string{object, "scim.kubescim.io", "bad\nname", "spec."} {
				if strings.Contains(se.Detail, leak) {
					t.Errorf("detail %q shows %q", se.Detail, leak)
				}
			}
		})
	}
}

// TestAPIValidationErrorsOnTheWire: what the API server refuses (CRD bounds) reaches the IdP as
// invalidValue naming the attribute, for users and groups alike, never the object name.
func TestAPIValidationErrorsOnTheWire(t *testing.T) {
	userName := uniq(t, "valid")
	id := createUser(t, userName, nil)
	tooLong := strings.Repeat("t", 300)
	tests := []struct {
		name, method, path string
		body               map[string]any
		attribute          string
	}{
		{"user title", http.MethodPut, "/scim/v2/Users/" + id, map[string]any{"userName": userName, "title": tooLong}, "title"},
		{"user enterprise department", http.MethodPatch, "/scim/v2/Users/" + id,
			patchBody(map[string]any{"op": "replace", "path": enterpriseURN + ":department", "value": tooLong}), enterpriseURN + ":department"},
		{"group displayName", http.MethodPost, "/scim/v2/Groups", map[string]any{"displayName": uniq(t, tooLong)}, "displayName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tt.method, tt.path, tt.body)
			r.expectError(t, http.StatusBadRequest, "invalidValue")
			detail := r.str("detail")
			if !strings.HasPrefix(detail, tt.attribute+": ") {
				t.Errorf("detail %q does not start with the attribute %s", detail, tt.attribute)
			}
			if strings.Contains(detail, "scim.kubescim.io") || strings.Contains(detail, userByScimID(t, id).Name) {
				t.Errorf("detail %q shows an internal object name", detail)
			}
		})
	}
}
