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
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// bulkRefPrefix marks a reference to the resource created by another operation of the same
// bulk request (RFC 7644 §3.7.2).
const bulkRefPrefix = "bulkId:"

// bulkTimeBudget is how long the operations of one bulk request may run, counted from the
// request's arrival: what is left of the write timeout suffices to send the BulkResponse.
const bulkTimeBudget = writeTimeout - 10*time.Second

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

// maxBulkOperations is the most operations one bulk request may hold, as advertised in
// ServiceProviderConfig: MaxBulkOperations, and with a rate limit no more than its burst, as
// every operation counts as one request.
func (s *Server) maxBulkOperations() int {
	n := s.opts.MaxBulkOperations
	if s.limiter.limit > 0 {
		n = min(n, s.limiter.burst)
	}
	return n
}

// handleBulk serves POST /Bulk. Each operation runs through the same handlers as a single
// request (so it is validated alike) and counts against the token's rate limit (the request
// itself pays for the first). Operations that reference a bulkId wait until the operation
// creating it has run, and circular references fail with 409. When the rate limit or the time
// budget (bulkTimeBudget) runs out, the operations not run yet are reported failed, with 429 or
// 503, and nothing more is attempted (RFC 7644 §3.7.3): the client retries exactly those.
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
	if maxOps := s.maxBulkOperations(); len(req.Operations) > maxOps {
		return schema.Errorf(http.StatusRequestEntityTooLarge, schema.ScimTypeTooMany,
			"a bulk request may hold at most %d operations (maxOperations)", maxOps)
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

	deadline := requestStart(r.Context()).Add(bulkTimeBudget)
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	b := &bulkRun{s: s, r: r.WithContext(ctx), deadline: deadline, ops: req.Operations,
		results: make([]map[string]any, len(req.Operations)), resolved: map[string]string{}}
	pending := len(req.Operations)
	for pending > 0 && !b.stopped(req.FailOnErrors) && !b.abandoned {
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
			} else if !b.nextAllowed() {
				break
			} else {
				b.run(i)
			}
			pending--
			progressed = true
		}
		if !progressed && !b.abandoned {
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
	s         *Server
	r         *http.Request // carries the deadline of the whole bulk request
	deadline  time.Time
	ops       []bulkOperation
	results   []map[string]any
	resolved  map[string]string // bulkId -> SCIM id
	errors    int
	started   int  // operations dispatched
	abandoned bool // the rate limit or the time budget ran out
}

func (b *bulkRun) stopped(failOnErrors int) bool { return failOnErrors > 0 && b.errors >= failOnErrors }

// nextAllowed reports whether the next operation may run: within the time budget and the token's
// rate limit. If not, every operation not run yet is reported failed.
func (b *bulkRun) nextAllowed() bool {
	if !b.s.now().Before(b.deadline) {
		b.abandon(schema.Errorf(http.StatusServiceUnavailable, "",
			"not attempted: the bulk request used up its time (%s); retry this operation", bulkTimeBudget))
		return false
	}
	b.started++
	if b.started == 1 {
		return true // the bulk request's own charge
	}
	if allowed, wait := b.s.limiter.allow(tokenNameFrom(b.r.Context())); !allowed {
		b.abandon(schema.Errorf(http.StatusTooManyRequests, "",
			"not attempted: too many requests; retry this operation after %d seconds", int((wait+time.Second-1)/time.Second)))
		return false
	}
	return true
}

// abandon reports every operation not run yet as failed with e.
func (b *bulkRun) abandon(e *schema.Error) {
	b.abandoned = true
	for i := range b.ops {
		if b.results[i] == nil {
			b.fail(i, e)
		}
	}
}

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
	sub.Host, sub.TLS, sub.RemoteAddr = b.r.Host, b.r.TLS, b.r.RemoteAddr
	for _, h := range []string{headerForwardedProto, headerForwardedHost, headerForwardedFor} {
		if v := b.r.Header.Values(h); len(v) > 0 {
			sub.Header[h] = v
		}
	}
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
