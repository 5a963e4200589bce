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
