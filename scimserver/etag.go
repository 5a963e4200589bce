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

// preconditions holds a request's conditional headers.
type preconditions struct {
	ifMatch, ifNoneMatch string
}

func preconditionsOf(r *http.Request) preconditions {
	return preconditions{ifMatch: r.Header.Get("If-Match"), ifNoneMatch: r.Header.Get("If-None-Match")}
}

// checkWrite returns 412 when a write's preconditions fail against the current version.
func (p preconditions) checkWrite(resourceVersion string) error {
	if p.ifMatch != "" && !etagListMatches(p.ifMatch, resourceVersion) {
		return preconditionFailed()
	}
	if p.ifNoneMatch != "" && etagListMatches(p.ifNoneMatch, resourceVersion) {
		return preconditionFailed()
	}
	return nil
}
