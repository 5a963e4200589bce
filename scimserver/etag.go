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
	"net/http"
	"strings"

	"github.com/kubescim/kubescim/scimserver/store"
)

// etagFor is the weak ETag of a resource version (meta.version, RFC 7644 §3.14).
func etagFor(resourceVersion string) string { return `W/"` + resourceVersion + `"` }

// etagListMatches reports whether an If-Match / If-None-Match header value (a list of entity
// tags or "*") matches the resource version. Comparison is weak: W/ prefixes are ignored.
func etagListMatches(header, resourceVersion string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		tag = strings.TrimPrefix(tag, "W/")
		if strings.Trim(tag, `"`) == resourceVersion {
			return true
		}
	}
	return false
}

// preconditionsOf turns a request's conditional headers into the store's preconditions on the
// version a write replaces: the resourceVersion is the ETag.
func preconditionsOf(r *http.Request) store.Preconditions {
	var pre store.Preconditions
	if ifMatch := r.Header.Get("If-Match"); ifMatch != "" {
		pre.IfMatch = func(version string) bool { return etagListMatches(ifMatch, version) }
	}
	if ifNoneMatch := r.Header.Get("If-None-Match"); ifNoneMatch != "" {
		pre.IfNoneMatch = func(version string) bool { return etagListMatches(ifNoneMatch, version) }
	}
	return pre
}
