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
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/scimserver/filter"
	"github.com/kubescim/kubescim/scimserver/schema"
	"github.com/kubescim/kubescim/scimserver/store"
)

// collection is what listing needs from a resource type: index-backed candidates for a filter
// and the rendering of one object.
type collection struct {
	rt       *schema.ResourceType
	computed string // the attribute that costs index reads: "groups" or "members"
	// candidates returns the objects a filter may match: an index lookup when the filter has an
	// indexable equality, else every object.
	candidates func(ctx context.Context, f *filter.Filter) ([]client.Object, error)
	// page returns the objects at [offset, offset+limit) of the default order and how many
	// there are, without listing the others (an unfiltered, unsorted list).
	page   func(ctx context.Context, offset, limit int) ([]client.Object, int, error)
	render func(ctx context.Context, obj client.Object, base string, withComputed bool) (map[string]any, error)
}

// attributeIndex names the cache index that serves equality on one attribute; folded indexes
// hold lower-cased values (case-insensitive attributes).
type attributeIndex struct {
	name   string
	folded bool
}

// indexedCandidates builds a collection's candidates function: one index lookup when the
// filter has an equality on an indexed attribute (the filter still runs on the result), else
// every object.
func indexedCandidates[T client.Object](list func(ctx context.Context, index, value string) ([]T, error), indexes map[string]attributeIndex) func(context.Context, *filter.Filter) ([]client.Object, error) {
	return func(ctx context.Context, f *filter.Filter) ([]client.Object, error) {
		index, value := "", ""
		if f != nil {
			if attr, v, ok := f.IndexHint(); ok {
				if ix, found := indexes[attr]; found {
					index, value = ix.name, v
					if ix.folded {
						value = v1alpha1.FoldKey(v)
					}
				}
			}
		}
		items, err := list(ctx, index, value)
		if err != nil {
			return nil, err
		}
		objs := make([]client.Object, len(items))
		for i, it := range items {
			objs[i] = it
		}
		return objs, nil
	}
}

// orderedPage builds a collection's page function from the store's.
func orderedPage[T client.Object](page func(ctx context.Context, offset, limit int) ([]T, int, error)) func(context.Context, int, int) ([]client.Object, int, error) {
	return func(ctx context.Context, offset, limit int) ([]client.Object, int, error) {
		items, total, err := page(ctx, offset, limit)
		if err != nil {
			return nil, 0, err
		}
		objs := make([]client.Object, len(items))
		for i, it := range items {
			objs[i] = it
		}
		return objs, total, nil
	}
}

// listCollection serves GET on a resource endpoint (RFC 7644 §3.4.2).
func (s *Server) listCollection(w http.ResponseWriter, r *http.Request, c *collection) error {
	q, err := listQuery(r.URL.Query())
	if err != nil {
		return err
	}
	if len(q.filter) > s.opts.MaxFilterLength {
		return schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidFilter,
			"the filter is longer than %d characters; send it in a SearchRequest with POST .search, which accepts %d",
			s.opts.MaxFilterLength, s.opts.MaxSearchFilterLength)
	}
	return s.search(w, r, q, c)
}

// searchCollection serves POST .search on a resource endpoint (RFC 7644 §3.4.3).
func (s *Server) searchCollection(w http.ResponseWriter, r *http.Request, c *collection) error {
	q, err := s.searchRequest(r)
	if err != nil {
		return err
	}
	return s.search(w, r, q, c)
}

// searchRequest reads a SearchRequest body. Its filter may be longer than a query string's
// (MaxSearchFilterLength), which is what POST .search is for.
func (s *Server) searchRequest(r *http.Request) (query, error) {
	q, err := searchQuery(r)
	if err != nil {
		return q, err
	}
	if len(q.filter) > s.opts.MaxSearchFilterLength {
		return q, schema.Errorf(http.StatusBadRequest, schema.ScimTypeInvalidFilter,
			"the filter is longer than %d characters", s.opts.MaxSearchFilterLength)
	}
	return q, nil
}

// writeProjected sends one resource projected by the request's attributes= /
// excludedAttributes=; the costly computed attribute (groups, members) is read only when it is
// part of the answer.
func (s *Server) writeProjected(w http.ResponseWriter, r *http.Request, status int, c *collection, obj client.Object) error {
	q := projectionQuery(r.URL.Query())
	res, err := c.render(r.Context(), obj, s.baseURL(r), q.wants(c.rt, c.computed))
	if err != nil {
		return err
	}
	projected, err := schema.Project(c.rt, res, q.attributes, q.excluded)
	if err != nil {
		return err
	}
	writeResource(w, status, obj.GetResourceVersion(), projected)
	return nil
}

// writeGetResponse answers a single-resource GET: 304 when If-None-Match names the current
// version.
func (s *Server) writeGetResponse(w http.ResponseWriter, r *http.Request, c *collection, obj client.Object) error {
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagListMatches(inm, obj.GetResourceVersion()) {
		notModified(w, obj.GetResourceVersion())
		return nil
	}
	return s.writeProjected(w, r, http.StatusOK, c, obj)
}

// listItem is one matching resource.
type listItem struct {
	obj client.Object
	rt  *schema.ResourceType
	res map[string]any // rendered; nil until needed
	c   *collection
}

// search runs a query over one or more collections (several for the root /.search) and writes a
// ListResponse.
func (s *Server) search(w http.ResponseWriter, r *http.Request, q query, cols ...*collection) error {
	ctx := r.Context()
	base := s.baseURL(r)
	if err := checkQueryAttributes(q, cols); err != nil {
		return err
	}
	start, count := s.pageBounds(q)
	if strings.TrimSpace(q.filter) == "" && q.sortBy == "" && !slices.ContainsFunc(cols, func(c *collection) bool { return c.page == nil }) {
		return s.writeOrderedPage(w, r, q, base, start, count, cols)
	}
	var (
		items    []*listItem
		firstErr error
		parsed   int
	)
	for _, c := range cols {
		var f *filter.Filter
		if strings.TrimSpace(q.filter) != "" {
			var err error
			if f, err = filter.Parse(c.rt, q.filter); err != nil {
				// On the root endpoint a filter may only make sense for one resource type.
				firstErr = errors.Join(firstErr, err)
				if len(cols) > 1 {
					continue
				}
				return err
			}
		}
		parsed++
		objs, err := c.candidates(ctx, f)
		if err != nil {
			return err
		}
		withComputed := q.wants(c.rt, c.computed)
		for _, obj := range objs {
			it := &listItem{obj: obj, rt: c.rt, c: c}
			if f != nil || q.sortBy != "" {
				if it.res, err = c.render(ctx, obj, base, withComputed); err != nil {
					return err
				}
				if f != nil && !f.Match(it.res) {
					continue
				}
			}
			items = append(items, it)
		}
	}
	if parsed == 0 && firstErr != nil {
		var se *schema.Error
		if errors.As(firstErr, &se) {
			return se
		}
		return firstErr
	}
	if err := sortItems(items, q); err != nil {
		return err
	}
	page := []*listItem{}
	if start-1 < len(items) {
		page = items[start-1 : min(len(items), start-1+count)]
	}
	return writeListResponse(ctx, w, q, base, start, len(items), page)
}

// writeOrderedPage answers an unfiltered, unsorted query from the collections' kept orders
// (store/order.go), one collection after the other (the root /.search: Users, then Groups):
// only the page's resources are read, so every page costs the same however deep it is.
func (s *Server) writeOrderedPage(w http.ResponseWriter, r *http.Request, q query, base string, start, count int, cols []*collection) error {
	ctx := r.Context()
	page := []*listItem{}
	offset, total := start-1, 0
	for _, c := range cols {
		objs, n, err := c.page(ctx, max(offset, 0), max(count-len(page), 0))
		if err != nil {
			return err
		}
		for _, obj := range objs {
			page = append(page, &listItem{obj: obj, rt: c.rt, c: c})
		}
		offset -= n
		total += n
	}
	return writeListResponse(ctx, w, q, base, start, total, page)
}

// pageBounds is the request's 1-based startIndex and count (RFC 7644 §3.4.2.4): a startIndex
// below 1 is 1, and count is at most MaxResults, which is also what no count means.
func (s *Server) pageBounds(q query) (start, count int) {
	start = max(q.startIndex, 1)
	count = q.count
	if count < 0 || count > s.opts.MaxResults {
		count = s.opts.MaxResults
	}
	return start, count
}

// writeListResponse renders and projects the page's resources and writes the ListResponse.
func writeListResponse(ctx context.Context, w http.ResponseWriter, q query, base string, start, total int, page []*listItem) error {
	resources := make([]any, 0, len(page))
	for _, it := range page {
		if it.res == nil {
			var err error
			if it.res, err = it.c.render(ctx, it.obj, base, q.wants(it.rt, it.c.computed)); err != nil {
				return err
			}
		}
		projected, err := schema.Project(it.rt, it.res, q.attributes, q.excluded)
		if err != nil {
			return err
		}
		resources = append(resources, projected)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":      []string{schema.ListResponseURN},
		"totalResults": total,
		"startIndex":   start,
		"itemsPerPage": len(resources),
		"Resources":    resources,
	})
	return nil
}

// checkQueryAttributes refuses attributes=, excludedAttributes= and sortBy paths that no
// listed resource type knows, up front, so the answer does not depend on whether the store
// happens to hold anything to project.
func checkQueryAttributes(q query, cols []*collection) error {
	paths := append(append([]string{}, q.attributes...), q.excluded...)
	if q.sortBy != "" {
		paths = append(paths, q.sortBy)
	}
	for _, path := range paths {
		known := false
		for _, c := range cols {
			if _, err := c.rt.Resolve(path); err == nil {
				known = true
				break
			}
		}
		if !known {
			return invalidValue("unknown attribute %q", path)
		}
	}
	return nil
}

// sortItems orders by sortBy (RFC 7644 §3.4.2.3), else by creation time and name, so pages are
// stable between requests.
func sortItems(items []*listItem, q query) error {
	if q.sortBy == "" {
		slices.SortStableFunc(items, func(a, b *listItem) int { return store.CompareDefaultOrder(a.obj, b.obj) })
		return nil
	}
	descending := strings.EqualFold(q.sortOrder, "descending")
	if q.sortOrder != "" && !descending && !strings.EqualFold(q.sortOrder, "ascending") {
		return invalidValue("sortOrder must be ascending or descending")
	}
	keys := make([]sortKey, len(items))
	resolved := false
	for i, it := range items {
		p, err := it.rt.Resolve(q.sortBy)
		if err != nil {
			continue
		}
		resolved = true
		keys[i] = sortKeyOf(schema.Get(it.res, p), p)
	}
	if !resolved && len(items) > 0 {
		return invalidValue("sortBy names an unknown attribute")
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool {
		return keys[idx[i]].less(keys[idx[j]], descending)
	})
	sorted := make([]*listItem, len(items))
	for i, k := range idx {
		sorted[i] = items[k]
	}
	copy(items, sorted)
	return nil
}

type sortKey struct {
	present bool
	num     *float64
	str     string
}

func sortKeyOf(v any, p schema.Path) sortKey {
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			return sortKey{}
		}
		v = list[0]
	}
	caseExact := p.Attr.CaseExact
	if p.Sub != nil {
		caseExact = p.Sub.CaseExact
	}
	switch t := v.(type) {
	case nil:
		return sortKey{}
	case string:
		if !caseExact {
			t = strings.ToLower(t)
		}
		return sortKey{present: true, str: t}
	case bool:
		if t {
			return sortKey{present: true, str: "true"}
		}
		return sortKey{present: true, str: "false"}
	default:
		if f, ok := schema.ToFloat(t); ok {
			return sortKey{present: true, num: &f}
		}
	}
	return sortKey{}
}

// less orders present values before absent ones in both directions.
func (a sortKey) less(b sortKey, descending bool) bool {
	if a.present != b.present {
		return a.present
	}
	if !a.present {
		return false
	}
	var lt, gt bool
	if a.num != nil && b.num != nil {
		lt, gt = *a.num < *b.num, *a.num > *b.num
	} else {
		lt, gt = a.str < b.str, a.str > b.str
	}
	if descending {
		return gt
	}
	return lt
}
