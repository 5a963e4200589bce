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

package controllers

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// snapshot is a read-only client.Reader over one list per kind, fetched from a live reader on
// first use. It answers the field-index queries of membership and the binding reconciler with
// the very index functions the manager's cache registers (scimv1.SetupIndexes,
// setupControllerIndexes), so code written against the cache runs unchanged on a plain API
// client, which has no such indexes. One list per kind also makes every answer of a preview
// come from the same moment, and costs one request per kind instead of one per group.
type snapshot struct {
	live    client.Reader
	scheme  *runtime.Scheme
	limits  map[schema.GroupVersionKind][]client.ListOption // what the manager's cache is limited to
	mu      sync.Mutex
	lists   map[schema.GroupVersionKind][]client.Object
	indexes map[schema.GroupVersionKind]map[string]client.IndexerFunc
}

var (
	snapshotSchemeOnce sync.Once
	snapshotScheme     *runtime.Scheme
)

// newSnapshot wraps live; a snapshot is returned as it is.
func newSnapshot(ctx context.Context, live client.Reader, opts Options) (*snapshot, error) {
	if s, ok := live.(*snapshot); ok {
		return s, nil
	}
	snapshotSchemeOnce.Do(func() {
		snapshotScheme = runtime.NewScheme()
		_ = clientgoscheme.AddToScheme(snapshotScheme) // static registrations: cannot fail
		_ = scimv1.AddToScheme(snapshotScheme)
	})
	s := &snapshot{live: live, scheme: snapshotScheme,
		lists: map[schema.GroupVersionKind][]client.Object{}, indexes: map[schema.GroupVersionKind]map[string]client.IndexerFunc{},
		limits: map[schema.GroupVersionKind][]client.ListOption{}}
	// Read what the manager's cache holds, and no more: kubescim's own RoleBindings, not all.
	for obj, by := range CacheByObject(opts) {
		gvk, err := apiutil.GVKForObject(obj, s.scheme)
		if err != nil {
			return nil, err
		}
		var limit []client.ListOption
		if by.Label != nil {
			limit = append(limit, client.MatchingLabelsSelector{Selector: by.Label})
		}
		for ns := range by.Namespaces {
			if len(by.Namespaces) == 1 {
				limit = append(limit, client.InNamespace(ns))
			}
		}
		s.limits[gvk] = limit
	}
	if err := scimv1.SetupIndexes(ctx, s); err != nil {
		return nil, err
	}
	if err := setupControllerIndexes(ctx, s, opts); err != nil {
		return nil, err
	}
	return s, nil
}

// IndexField registers an index function, as client.FieldIndexer does.
func (s *snapshot) IndexField(_ context.Context, obj client.Object, field string, fn client.IndexerFunc) error {
	gvk, err := apiutil.GVKForObject(obj, s.scheme)
	if err != nil {
		return err
	}
	if s.indexes[gvk] == nil {
		s.indexes[gvk] = map[string]client.IndexerFunc{}
	}
	s.indexes[gvk][field] = fn
	return nil
}

// load returns every object of kind gvk, listing them from the live reader once.
func (s *snapshot) load(ctx context.Context, gvk schema.GroupVersionKind) ([]client.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if objs, ok := s.lists[gvk]; ok {
		return objs, nil
	}
	listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	raw, err := s.scheme.New(listGVK)
	if err != nil {
		return nil, err
	}
	list := raw.(client.ObjectList)
	if err := s.live.List(ctx, list, s.limits[gvk]...); err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	objs := make([]client.Object, len(items))
	for i, it := range items {
		objs[i] = it.(client.Object)
	}
	s.lists[gvk] = objs
	return objs, nil
}

// Get copies the named object into obj.
func (s *snapshot) Get(ctx context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	gvk, err := apiutil.GVKForObject(obj, s.scheme)
	if err != nil {
		return err
	}
	objs, err := s.load(ctx, gvk)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if o.GetName() == key.Name && o.GetNamespace() == key.Namespace {
			reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(o.DeepCopyObject()).Elem())
			return nil
		}
	}
	gr := schema.GroupResource{Group: gvk.Group, Resource: strings.ToLower(gvk.Kind) + "s"}
	return apierrors.NewNotFound(gr, key.Name)
}

// List fills list with the objects that match the namespace, label selector and exact-match
// field (index) requirements of opts.
func (s *snapshot) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	listGVK, err := apiutil.GVKForObject(list, s.scheme)
	if err != nil {
		return err
	}
	gvk := listGVK.GroupVersion().WithKind(strings.TrimSuffix(listGVK.Kind, "List"))
	objs, err := s.load(ctx, gvk)
	if err != nil {
		return err
	}
	var lo client.ListOptions
	lo.ApplyOptions(opts)
	var out []runtime.Object
	for _, o := range objs {
		ok, err := s.matches(gvk, o, &lo)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, o.DeepCopyObject())
		}
	}
	return meta.SetList(list, out)
}

func (s *snapshot) matches(gvk schema.GroupVersionKind, o client.Object, lo *client.ListOptions) (bool, error) {
	if lo.Namespace != "" && o.GetNamespace() != lo.Namespace {
		return false, nil
	}
	if lo.LabelSelector != nil && !lo.LabelSelector.Matches(labels.Set(o.GetLabels())) {
		return false, nil
	}
	if lo.FieldSelector == nil {
		return true, nil
	}
	for _, req := range lo.FieldSelector.Requirements() {
		if req.Operator != selection.Equals && req.Operator != selection.DoubleEquals {
			return false, fmt.Errorf("field selector %s: only exact matches are supported", req.Field)
		}
		fn := s.indexes[gvk][req.Field]
		if fn == nil {
			return false, fmt.Errorf("no index %s for %s", req.Field, gvk.Kind)
		}
		if !slices.Contains(fn(o), req.Value) {
			return false, nil
		}
	}
	return true, nil
}
