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
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kubescim/kubescim/scimserver/schema"
	"github.com/kubescim/kubescim/scimserver/store"
)

// defaultRetryAfter is what 429 and 503 answers tell the IdP to wait when nothing better is known.
const defaultRetryAfter = 5 * time.Second

// retryableError is a SCIM error that carries a Retry-After hint (429, 503).
type retryableError struct {
	scim  *schema.Error
	after time.Duration
}

func (e *retryableError) Error() string { return e.scim.Error() }
func (e *retryableError) Unwrap() error { return e.scim }

func unavailable(detail string, after time.Duration) error {
	if after <= 0 {
		after = defaultRetryAfter
	}
	return &retryableError{scim: schema.Errorf(http.StatusServiceUnavailable, "", "%s", detail), after: after}
}

func invalidValue(format string, args ...any) error {
	return schema.Errorf(http.StatusBadRequest, "invalidValue", format, args...)
}

func invalidSyntax(format string, args ...any) error {
	return schema.Errorf(http.StatusBadRequest, "invalidSyntax", format, args...)
}

func uniqueness(format string, args ...any) error {
	return schema.Errorf(http.StatusConflict, "uniqueness", format, args...)
}

func preconditionFailed() error {
	return schema.Errorf(http.StatusPreconditionFailed, "", "the resource version does not match If-Match")
}

// fromAPIError maps an error from the store, the Kubernetes API or the cache to a SCIM error. It
// is the one place where storage refusals and API server failures become SCIM status codes; anything it does not know becomes a
// 500 with a generic detail, and the cause is logged.
func fromAPIError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var se *schema.Error
	var re *retryableError
	if errors.As(err, &re) || errors.As(err, &se) {
		return err
	}
	var refused *store.Error
	if errors.As(err, &refused) {
		return fromStoreError(refused)
	}
	log := ctrl.LoggerFrom(ctx)
	switch {
	case errors.Is(err, context.Canceled):
		// The client went away (or the server is shutting down): not a server error. The
		// answer is for a client that may still be listening.
		log.V(1).Info("SCIM request cancelled before it completed")
		return unavailable("the request was cancelled before it completed; retry", 0)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		// The request's own time ran out (a bulk operation at the end of its budget), not
		// the API server's.
		log.Info("SCIM request ran out of time before it completed")
		return unavailable("the request ran out of time before it completed; retry", 0)
	case apierrors.IsAlreadyExists(err):
		return uniqueness("a resource with this name already exists")
	case apierrors.IsConflict(err):
		return schema.Errorf(http.StatusConflict, "", "the resource was modified concurrently; retry")
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
		return invalidValue("%s", invalidDetail(err))
	case apierrors.IsNotFound(err), apierrors.IsGone(err):
		return schema.Errorf(http.StatusNotFound, "", "resource not found")
	case apierrors.IsRequestEntityTooLargeError(err):
		return schema.Errorf(http.StatusRequestEntityTooLarge, "tooLarge", "the resource is too large")
	case apierrors.IsTooManyRequests(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err),
		apierrors.IsServiceUnavailable(err), apierrors.IsInternalError(err),
		errors.Is(err, context.DeadlineExceeded), isConnectionError(err):
		log.Error(err, "Kubernetes API unavailable")
		after := defaultRetryAfter
		if secs, ok := apierrors.SuggestsClientDelay(err); ok && secs > 0 {
			after = time.Duration(secs) * time.Second
		}
		return unavailable("the backing store is temporarily unavailable; retry later", after)
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		log.Error(err, "Kubernetes API refused the SCIM server's request; check its RBAC")
		return schema.Errorf(http.StatusInternalServerError, "", "internal error")
	default:
		log.Error(err, "Unexpected error")
		return schema.Errorf(http.StatusInternalServerError, "", "internal error")
	}
}

// fromStoreError maps a refusal of the store to its SCIM error.
func fromStoreError(e *store.Error) error {
	switch e.Reason {
	case store.NotFound:
		return schema.Errorf(http.StatusNotFound, "", "%s", e.Message)
	case store.NameTaken:
		return uniqueness("%s", e.Message)
	case store.PreconditionFailed:
		return preconditionFailed()
	case store.Invalid:
		return invalidValue("%s", e.Message)
	}
	return schema.Errorf(http.StatusInternalServerError, "", "internal error")
}

// invalidDetail renders an API server validation error by its causes, in SCIM terms, e.g.
// "title: Too long: may not be more than 256 bytes". It never uses the error's message, which
// names the internal object (`ScimUser.scim.kubescim.io "alice-…" is invalid`), and it drops
// the rejected values the causes quote.
func invalidDetail(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return "the resource is not valid"
	}
	var parts []string
	for _, c := range status.Status().Details.Causes {
		part := withoutValue(c.Message)
		if attr := scimAttribute(c.Field); attr != "" {
			part = attr + ": " + part
		}
		if part != "" && !slices.Contains(parts, part) {
			parts = append(parts, part)
		}
	}
	if len(parts) == 0 {
		return "the resource is not valid"
	}
	return strings.Join(parts, "; ")
}

// scimAttribute turns the field path of a ScimUser or ScimGroup ("spec.enterprise.department")
// into the SCIM attribute it stores; object metadata and the spec as a whole give "".
func scimAttribute(field string) string {
	attr, ok := strings.CutPrefix(field, "spec.")
	if !ok {
		return ""
	}
	if rest, ok := strings.CutPrefix(attr, "enterprise."); ok {
		return schema.EnterpriseUserURN + ":" + rest
	}
	return attr
}

// withoutValue drops the value from a cause message of the form `Invalid value: "x": why`.
func withoutValue(msg string) string {
	for _, kind := range []string{"Invalid value", "Unsupported value", "Duplicate value"} {
		rest, ok := strings.CutPrefix(msg, kind+": ")
		if !ok {
			continue
		}
		if quoted, err := strconv.QuotedPrefix(rest); err == nil {
			rest = rest[len(quoted):]
		} else if value, after, found := strings.Cut(rest, ": "); found && isScalar(value) {
			rest = after
		} // else the message has no value, as CEL rules' messages
		why := strings.ReplaceAll(strings.TrimPrefix(rest, ": "), "spec.", "")
		if why == "" {
			return kind
		}
		return kind + ": " + why
	}
	return msg
}

// isScalar reports whether s is an unquoted JSON scalar, as field errors render numbers,
// booleans and null.
func isScalar(s string) bool {
	if s == "null" || s == "true" || s == "false" {
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// isConnectionError reports a request that got no HTTP answer from the API server: refused,
// reset, timed out, or cut mid-way (EOF, an HTTP/2 connection lost) as when kube-apiserver stops
// with the request in flight. client-go returns every transport failure as a *url.Error.
func isConnectionError(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	var urlErr *url.Error
	return errors.As(err, &opErr) || errors.As(err, &urlErr) || (errors.As(err, &netErr) && netErr.Timeout()) ||
		utilnet.IsProbableEOF(err)
}

// errorDocument renders a SCIM Error response (RFC 7644 §3.12).
func errorDocument(e *schema.Error) map[string]any {
	doc := map[string]any{
		"schemas": []string{schema.ErrorURN},
		"status":  strconv.Itoa(e.Status),
	}
	if e.ScimType != "" {
		doc["scimType"] = e.ScimType
	}
	if e.Detail != "" {
		doc["detail"] = e.Detail
	}
	return doc
}

// writeError sends err as a SCIM Error document. Errors that are not SCIM errors are mapped with
// fromAPIError first; a cancelled request is marked abandoned for the request log.
func writeError(ctx context.Context, w http.ResponseWriter, err error) {
	if a, ok := w.(interface{ abandon() }); ok && errors.Is(err, context.Canceled) {
		a.abandon()
	}
	err = fromAPIError(ctx, err)
	var re *retryableError
	if errors.As(err, &re) {
		w.Header().Set("Retry-After", strconv.Itoa(int((re.after+time.Second-1)/time.Second)))
	}
	var se *schema.Error
	if !errors.As(err, &se) {
		se = schema.Errorf(http.StatusInternalServerError, "", "internal error")
	}
	if se.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kubescim"`)
	}
	writeJSON(w, se.Status, errorDocument(se))
}
