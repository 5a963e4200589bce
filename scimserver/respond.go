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
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// contentType is the media type of every SCIM response (RFC 7644 §3.1).
const contentType = "application/scim+json"

func writeJSON(w http.ResponseWriter, status int, body any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"schemas":["` + schema.ErrorURN + `"],"status":"500","detail":"internal error"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// acceptableContentType accepts application/json and application/scim+json (with parameters such
// as charset) and a missing Content-Type, which several IdPs and test tools send.
func acceptableContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return invalidSyntax("malformed Content-Type")
	}
	switch strings.ToLower(mt) {
	case "application/json", contentType:
		return nil
	}
	return schema.Errorf(http.StatusUnsupportedMediaType, "invalidSyntax",
		"Content-Type %q is not supported; use application/scim+json", mt)
}

// readBody reads a request body bounded by the server's body limit (the limit is applied by the
// handler chain with http.MaxBytesReader).
func readBody(r *http.Request) ([]byte, error) {
	if err := acceptableContentType(r); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, schema.Errorf(http.StatusRequestEntityTooLarge, "tooLarge",
				"the request body exceeds %d bytes", tooLarge.Limit)
		}
		return nil, invalidSyntax("reading the request body: %v", err)
	}
	return body, nil
}

// decodeObject reads a JSON object body.
func decodeObject(r *http.Request) (map[string]any, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, invalidSyntax("the request body is not a JSON object")
	}
	return obj, nil
}

// writeResource sends one resource with its ETag (and Location on 201).
func writeResource(w http.ResponseWriter, status int, resourceVersion string, res map[string]any) {
	w.Header().Set("ETag", etagFor(resourceVersion))
	if status == http.StatusCreated {
		if meta, ok := res["meta"].(map[string]any); ok {
			if loc, ok := meta["location"].(string); ok {
				w.Header().Set("Location", loc)
			}
		}
	}
	writeJSON(w, status, res)
}

// notModified answers a GET whose If-None-Match matches the current version.
func notModified(w http.ResponseWriter, resourceVersion string) {
	w.Header().Set("ETag", etagFor(resourceVersion))
	w.WriteHeader(http.StatusNotModified)
}
