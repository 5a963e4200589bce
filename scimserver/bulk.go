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
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// bulkRefPrefix marks a reference to the resource created by another operation of the same
// bulk request (RFC 7644 §3.7.2).
const bulkRefPrefix = "bulkId:"

// bulkOperation is one operation of a BulkRequest (RFC 7644 §3.7).
type bulkOperation struct {
	Method  string `json:"method"`
	BulkID  string `json:"bulkId,omitempty"`
	Version string `json:"version,omitempty"`
	Path    string `json:"path"`
	Data    any    `json:"data,omitempty"`
}

type bulkRequest struct {
	FailOnErrors int             `json:"failOnErrors"`
	Operations   []bulkOperation `json:"Operations"`
}

// handleBulk serves POST /Bulk. Each operation runs through the same handlers as a single
// request (so it is authenticated, limited and validated alike); operations that reference a
// bulkId wait until the operation creating it has run, and circular references fail with 409.
func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req bulkRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return invalidSyntax("the request body is not a BulkRequest: %v", err)
	}
	if req.Operations == nil {
		return invalidSyntax("BulkRequest without Operations")
	}
	if len(req.Operations) > s.opts.MaxPatchOperations {
		return schema.Errorf(http.StatusRequestEntityTooLarge, "tooMany",
			"a bulk request may hold at most %d operations", s.opts.MaxPatchOperations)
	}
	definedBy := map[string]int{}
	for i, op := range req.Operations {
		if strings.EqualFold(op.Method, http.MethodPost) && op.BulkID == "" {
			return invalidValue("operation %d: POST requires a bulkId", i)
		}
		if op.BulkID != "" {
			if _, dup := definedBy[op.BulkID]; dup {
				return invalidValue("bulkId %q is used twice", op.BulkID)
			}
			definedBy[op.BulkID] = i
		}
	}

	b := &bulkRun{s: s, r: r, ops: req.Operations, results: make([]map[string]any, len(req.Operations)), resolved: map[string]string{}}
	pending := len(req.Operations)
	for pending > 0 && !b.stopped(req.FailOnErrors) {
		progressed := false
		for i, op := range req.Operations {
			if b.results[i] != nil || b.stopped(req.FailOnErrors) {
				continue
			}
			ready, unresolvable := b.refsReady(op, definedBy)
			if !ready && !unresolvable {
				continue
			}
			if unresolvable {
				b.fail(i, schema.Errorf(http.StatusConflict, "invalidValue", "operation references a bulkId that was not created"))
			} else {
				b.run(i)
			}
			pending--
			progressed = true
		}
		if !progressed {
			// What remains waits on itself: circular references.
			for i := range req.Operations {
				if b.results[i] == nil && !b.stopped(req.FailOnErrors) {
					b.fail(i, schema.Errorf(http.StatusConflict, "invalidValue", "circular bulkId references"))
					pending--
				}
			}
		}
	}
	results := make([]any, 0, len(b.results))
	for _, res := range b.results {
		if res != nil {
			results = append(results, res)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{schema.BulkResponseURN}, "Operations": results})
	return nil
}

// bulkRun is the state of one bulk request.
type bulkRun struct {
	s        *Server
	r        *http.Request
	ops      []bulkOperation
	results  []map[string]any
	resolved map[string]string // bulkId -> SCIM id
	errors   int
}

func (b *bulkRun) stopped(failOnErrors int) bool { return failOnErrors > 0 && b.errors >= failOnErrors }

// refsReady reports whether every bulkId op references is resolved; unresolvable when one names
// no operation or one that already failed.
func (b *bulkRun) refsReady(op bulkOperation, definedBy map[string]int) (ready, unresolvable bool) {
	ready = true
	for _, ref := range bulkRefs(op) {
		if _, ok := b.resolved[ref]; ok {
			continue
		}
		ready = false
		if i, ok := definedBy[ref]; !ok || b.results[i] != nil {
			return false, true
		}
	}
	return ready, false
}

func (b *bulkRun) fail(i int, e *schema.Error) {
	b.errors++
	res := map[string]any{"method": strings.ToUpper(b.ops[i].Method), "status": strconv.Itoa(e.Status), "response": errorDocument(e)}
	if b.ops[i].BulkID != "" {
		res["bulkId"] = b.ops[i].BulkID
	}
	b.results[i] = res
}

// run executes operation i through the router.
func (b *bulkRun) run(i int) {
	op := b.ops[i]
	method := strings.ToUpper(op.Method)
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		b.fail(i, invalidSyntax("unsupported bulk method %q", op.Method).(*schema.Error))
		return
	}
	path := b.substitute(op.Path).(string)
	first := strings.ToLower(strings.SplitN(strings.TrimPrefix(path, "/"), "/", 2)[0])
	if first != "users" && first != "groups" {
		b.fail(i, schema.Errorf(http.StatusBadRequest, "invalidPath", "bulk operations apply to /Users and /Groups"))
		return
	}
	var body []byte
	if op.Data != nil && method != http.MethodDelete {
		body, _ = json.Marshal(b.substitute(op.Data))
	}
	sub, err := http.NewRequestWithContext(b.r.Context(), method, BasePath+path, bytes.NewReader(body))
	if err != nil {
		b.fail(i, invalidValue("operation %d: bad path", i).(*schema.Error))
		return
	}
	sub.Host, sub.TLS = b.r.Host, b.r.TLS
	sub.Header.Set("Content-Type", contentType)
	if op.Version != "" {
		sub.Header.Set("If-Match", op.Version)
	}
	rec := &bulkRecorder{header: http.Header{}}
	b.s.route(rec, sub)

	var doc map[string]any
	_ = json.Unmarshal(rec.body.Bytes(), &doc)
	res := map[string]any{"method": method, "status": strconv.Itoa(rec.status)}
	if op.BulkID != "" {
		res["bulkId"] = op.BulkID
	}
	if rec.status >= 400 {
		b.errors++
		res["response"] = doc
		b.results[i] = res
		return
	}
	if v := rec.header.Get("ETag"); v != "" {
		res["version"] = v
	}
	location := b.s.baseURL(b.r) + path
	if meta, ok := doc["meta"].(map[string]any); ok {
		if loc, ok := meta["location"].(string); ok {
			location = loc
		}
	}
	res["location"] = location
	if id, ok := doc["id"].(string); ok && op.BulkID != "" && method == http.MethodPost {
		b.resolved[op.BulkID] = id
	}
	b.results[i] = res
}

// substitute replaces "bulkId:x" references (whole strings and path segments) with SCIM ids.
func (b *bulkRun) substitute(v any) any {
	switch t := v.(type) {
	case string:
		if strings.Contains(t, bulkRefPrefix) {
			segs := strings.Split(t, "/")
			for i, seg := range segs {
				if id, ok := b.resolved[strings.TrimPrefix(seg, bulkRefPrefix)]; ok && strings.HasPrefix(seg, bulkRefPrefix) {
					segs[i] = id
				}
			}
			return strings.Join(segs, "/")
		}
		return t
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = b.substitute(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = b.substitute(e)
		}
		return out
	}
	return v
}

// bulkRefs lists the bulkIds an operation references in its path and data.
func bulkRefs(op bulkOperation) []string {
	var refs []string
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			for _, seg := range strings.Split(t, "/") {
				if strings.HasPrefix(seg, bulkRefPrefix) {
					refs = append(refs, strings.TrimPrefix(seg, bulkRefPrefix))
				}
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(op.Path)
	walk(op.Data)
	return refs
}

// bulkRecorder captures the answer to one bulk operation.
type bulkRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bulkRecorder) Header() http.Header { return w.header }
func (w *bulkRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}
func (w *bulkRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
