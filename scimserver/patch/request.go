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

package patch

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// Operation kinds, lower-case.
const (
	OpAdd     = "add"
	OpReplace = "replace"
	OpRemove  = "remove"
)

// Operation is one PATCH operation.
type Operation struct {
	// Op is "add", "replace" or "remove".
	Op string
	// Path is the target path, "" for the resource itself.
	Path string
	// Value is the decoded JSON value (numbers as json.Number); nil for remove.
	Value any
}

type rawRequest struct {
	Schemas    json.RawMessage `json:"schemas"`
	Operations *[]rawOperation `json:"Operations"`
}

type rawOperation struct {
	Op    string          `json:"op"`
	Path  *string         `json:"path"`
	Value json.RawMessage `json:"value"`
}

// ParseRequest decodes a PatchOp body (RFC 7644 §3.5.2). "schemas" must list the PatchOp
// URN among possibly others, or be absent; op names are case-insensitive ("Replace");
// a replace with a null value becomes a remove and an add with a null value is dropped
// (null means unassigned, RFC 7643 §2.5). Errors: malformed body, missing Operations or
// unknown op -> invalidSyntax; more than maxOps operations (maxOps > 0) or add/replace
// without value -> invalidValue; remove without path -> noTarget.
func ParseRequest(body []byte, maxOps int) ([]Operation, error) {
	var req rawRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidSyntax, "request body is not a PatchOp object")
	}
	if err := checkSchemas(req.Schemas); err != nil {
		return nil, err
	}
	if req.Operations == nil || len(*req.Operations) == 0 {
		return nil, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidSyntax, "Operations is missing or empty")
	}
	raw := *req.Operations
	if maxOps > 0 && len(raw) > maxOps {
		return nil, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidValue,
			"%d operations exceed the limit of %d per request", len(raw), maxOps)
	}
	ops := make([]Operation, 0, len(raw))
	for i, r := range raw {
		op, keep, err := decodeOperation(r)
		if err != nil {
			err.Detail = "operation " + strconv.Itoa(i) + ": " + err.Detail
			return nil, err
		}
		if keep {
			ops = append(ops, op)
		}
	}
	return ops, nil
}

func checkSchemas(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil // other clients than Entra and Okta may leave it out
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidSyntax, "schemas must be a list of URNs")
		}
		list = []string{one}
	}
	for _, s := range list {
		if strings.EqualFold(strings.TrimSpace(s), schema.PatchOpURN) {
			return nil
		}
	}
	return schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidSyntax, "schemas must contain %s", schema.PatchOpURN)
}

func decodeOperation(r rawOperation) (Operation, bool, *schema.Error) {
	op := Operation{Op: strings.ToLower(strings.TrimSpace(r.Op))}
	if r.Path != nil {
		op.Path = strings.TrimSpace(*r.Path)
	}
	hasValue := len(r.Value) > 0
	if hasValue {
		d := json.NewDecoder(bytes.NewReader(r.Value))
		d.UseNumber()
		if err := d.Decode(&op.Value); err != nil {
			return op, false, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidSyntax, "value is not valid JSON")
		}
	}
	switch op.Op {
	case OpRemove:
		if op.Path == "" {
			return op, false, schema.Errorf(http.StatusBadRequest, schema.ScimTypeNoTarget, "remove needs a path")
		}
	case OpAdd, OpReplace:
		if !hasValue {
			return op, false, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidValue, "%s needs a value", op.Op)
		}
		if op.Value == nil {
			if op.Op == OpAdd {
				return op, false, nil
			}
			if op.Path == "" {
				return op, false, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidValue, "replace without path needs an object value")
			}
			op.Op = OpRemove
		}
	default:
		return op, false, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidSyntax, "unknown op %q", truncate(r.Op))
	}
	return op, true, nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
