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
