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
	"net/url"
	"strconv"
	"strings"

	"github.com/kubescim/kubescim/scimserver/schema"
)

// query is a list or search request (RFC 7644 §3.4.2, §3.4.3), from the query string or a
// SearchRequest body.
type query struct {
	filter               string
	sortBy, sortOrder    string
	startIndex, count    int // count < 0: not given
	attributes, excluded []string
}

// projectionQuery reads attributes= and excludedAttributes= (also accepted on single-resource
// requests).
func projectionQuery(v url.Values) query {
	return query{
		attributes: stripValueFilters(splitList(v["attributes"])),
		excluded:   stripValueFilters(splitList(v["excludedAttributes"])),
		count:      -1,
	}
}

// stripValueFilters turns `emails[type eq "work"]` into `emails` (and `emails[...].value` into
// `emails.value`): RFC 7644 §3.4.2.5 allows only attribute paths in attributes=, but
// Microsoft's test collection sends value filters there; the whole attribute is returned.
func stripValueFilters(paths []string) []string {
	for i, p := range paths {
		open := strings.IndexByte(p, '[')
		if open < 0 {
			continue
		}
		if end := strings.LastIndexByte(p, ']'); end > open {
			paths[i] = p[:open] + p[end+1:]
		}
	}
	return paths
}

// listQuery reads a GET list request's parameters. url.Values already decodes "+" as a space.
func listQuery(v url.Values) (query, error) {
	q := projectionQuery(v)
	q.filter = v.Get("filter")
	q.sortBy = v.Get("sortBy")
	q.sortOrder = v.Get("sortOrder")
	q.startIndex = 1
	if s := v.Get("startIndex"); s != "" {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return q, invalidValue("startIndex must be an integer")
		}
		q.startIndex = n
	}
	if s := v.Get("count"); s != "" {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return q, invalidValue("count must be an integer")
		}
		q.count = max(n, 0)
	}
	return q, nil
}

// searchQuery reads a SearchRequest body (POST .search).
func searchQuery(r *http.Request) (query, error) {
	body, err := decodeObject(r)
	if err != nil {
		return query{}, err
	}
	q := query{startIndex: 1, count: -1}
	for k, v := range body {
		switch strings.ToLower(k) {
		case "schemas":
		case "filter":
			s, ok := v.(string)
			if !ok && v != nil {
				return q, schema.Errorf(http.StatusBadRequest, "invalidFilter", "filter must be a string")
			}
			q.filter = s
		case "sortby":
			q.sortBy, _ = v.(string)
		case "sortorder":
			q.sortOrder, _ = v.(string)
		case "startindex":
			n, ok := schema.ToFloat(v)
			if !ok {
				return q, invalidValue("startIndex must be an integer")
			}
			q.startIndex = int(n)
		case "count":
			n, ok := schema.ToFloat(v)
			if !ok {
				return q, invalidValue("count must be an integer")
			}
			q.count = max(int(n), 0)
		case "attributes", "excludedattributes":
			list, err := stringList(v)
			if err != nil {
				return q, invalidValue("%s must be a list of attribute names", k)
			}
			if strings.EqualFold(k, "attributes") {
				q.attributes = stripValueFilters(list)
			} else {
				q.excluded = stripValueFilters(list)
			}
		default:
			return q, invalidSyntax("unknown SearchRequest attribute %q", k)
		}
	}
	return q, nil
}

func stringList(v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		return splitList([]string{t}), nil
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, invalidValue("not a string")
			}
			out = append(out, s)
		}
		return splitList(out), nil
	}
	return nil, invalidValue("not a list")
}

// splitList splits comma-separated attribute lists and drops empty entries.
func splitList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// wants reports whether the response (or the filter) needs the computed attribute attr
// ("groups" or "members"), so that it is computed only when asked for: excludedAttributes=members
// must not touch the member index.
func (q query) wants(rt *schema.ResourceType, attr string) bool {
	if q.filter != "" && strings.Contains(strings.ToLower(q.filter), strings.ToLower(attr)) {
		return true
	}
	if strings.Contains(strings.ToLower(q.sortBy), strings.ToLower(attr)) {
		return true
	}
	for _, e := range q.excluded {
		if p, err := rt.Resolve(e); err == nil && p.Attr.Name == attr && p.Sub == nil {
			return false
		}
	}
	if len(q.attributes) == 0 {
		return true
	}
	for _, a := range q.attributes {
		if p, err := rt.Resolve(a); err == nil && p.Attr.Name == attr {
			return true
		}
	}
	return false
}
