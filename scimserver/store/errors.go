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

package store

import (
	"errors"
	"fmt"
)

// Reason says why the store refused an operation.
type Reason int

const (
	// NotFound: no live object has the SCIM id (or it was deleted or replaced meanwhile).
	NotFound Reason = iota + 1
	// NameTaken: another object holds the userName or displayName, case-insensitively.
	NameTaken
	// PreconditionFailed: the object's version does not satisfy the caller's Preconditions.
	PreconditionFailed
	// Invalid: the change cannot be stored as asked (e.g. a member deleted meanwhile).
	Invalid
)

// Error is a refusal of the store. Message is for the client that asked; it names SCIM ids and
// attributes, never internal object names.
type Error struct {
	Reason  Reason
	Message string
}

func (e *Error) Error() string { return e.Message }

// ErrUnchanged is returned by a mutate function (and then by the update) when the mutation
// changed nothing, so that no write happens.
var ErrUnchanged = errors.New("unchanged")

// ReasonOf returns the Reason of a store refusal in err's chain, or 0.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return 0
}

func notFoundError(kind, id string) error {
	return &Error{Reason: NotFound, Message: fmt.Sprintf("%s %q not found", kind, id)}
}

func nameTaken(format string, args ...any) error {
	return &Error{Reason: NameTaken, Message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) error {
	return &Error{Reason: Invalid, Message: fmt.Sprintf(format, args...)}
}

func preconditionError() error {
	return &Error{Reason: PreconditionFailed, Message: "the resource version does not match"}
}
