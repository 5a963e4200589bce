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

package schema

import (
	"errors"
	"fmt"
	"net/http"
)

// SCIM error types (RFC 7644 §3.12, Table 9) used by kubescim.
const (
	ScimTypeInvalidFilter = "invalidFilter"
	ScimTypeTooMany       = "tooMany"
	ScimTypeUniqueness    = "uniqueness"
	ScimTypeMutability    = "mutability"
	ScimTypeInvalidSyntax = "invalidSyntax"
	ScimTypeInvalidPath   = "invalidPath"
	ScimTypeNoTarget      = "noTarget"
	ScimTypeInvalidValue  = "invalidValue"
	ScimTypeInvalidVers   = "invalidVers"
	ScimTypeSensitive     = "sensitive"
)

var (
	// ErrUnknownAttribute is wrapped by errors about an attribute path that names no attribute
	// of the resource type (including attributes of undeclared extension URNs).
	ErrUnknownAttribute = errors.New("unknown attribute")
	// ErrInvalidPath is wrapped by errors about an attribute path that is not well formed.
	ErrInvalidPath = errors.New("malformed attribute path")
)

// Error is a SCIM protocol error; the HTTP layer renders it as an Error document
// (RFC 7644 §3.12). It is shared by the schema, filter and patch packages.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// ScimType is the SCIM error type, empty when the RFC defines none for the case.
	ScimType string
	// Detail is a human-readable message; it never contains attribute values.
	Detail string

	cause error
}

// Error implements error.
func (e *Error) Error() string {
	if e.ScimType == "" {
		return fmt.Sprintf("scim %d: %s", e.Status, e.Detail)
	}
	return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail)
}

// Unwrap exposes wrapped causes (for example ErrUnknownAttribute) to errors.Is.
func (e *Error) Unwrap() error { return e.cause }

// Errorf builds an *Error whose Detail is formatted like fmt.Errorf; a %w verb makes the
// wrapped error reachable through errors.Is / errors.As.
func Errorf(status int, scimType, format string, args ...any) *Error {
	cause := fmt.Errorf(format, args...)
	return &Error{Status: status, ScimType: scimType, Detail: cause.Error(), cause: cause}
}

// invalidValue is the common 400 invalidValue error.
func invalidValue(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, ScimTypeInvalidValue, format, args...)
}
