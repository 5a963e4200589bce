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

package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// Read-through. Every replica reads from its own cache, which sees a write made through another
// replica a few milliseconds late: an IdP that POSTs a user to one replica and PATCHes a group
// with the new id on the next would meet a 404. So a lookup by id, userName or externalId that
// misses the cache asks the API server, once per lookup and only on a miss. General filters and
// list pages never do. The labels below make these lookups selections the API server answers
// without sending every object.

const (
	// idLabel holds the SCIM id of objects the SCIM server created, so that a lookup by id can
	// be a label selection. Objects without it (made with kubectl) have their uid as id, and are
	// found by id in the cache only.
	idLabel = v1alpha1.IDLabel
	// externalIDLabel holds a hash of externalId, which may not be a valid label value.
	externalIDLabel = "scim.kubescim.io/external-id-hash"
	// readThroughChunk bounds the ids of one live label selection.
	readThroughChunk = 100
)

// externalIDHash is the externalIDLabel value of an externalId: a label value is at most 63
// characters.
func externalIDHash(externalID string) string {
	sum := sha256.Sum256([]byte(externalID))
	return hex.EncodeToString(sum[:])[:40]
}

// setLookupLabels sets the externalId label that the read-through selects on. The id label is
// set once, by create (newID): an existing object's id never changes.
func setLookupLabels(obj client.Object) {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	if ext := externalIDOf(obj); ext != "" {
		l[externalIDLabel] = externalIDHash(ext)
	} else {
		delete(l, externalIDLabel)
	}
	obj.SetLabels(l)
}

func externalIDOf(obj client.Object) string {
	switch o := obj.(type) {
	case *v1alpha1.ScimUser:
		return o.Spec.ExternalID
	case *v1alpha1.ScimGroup:
		return o.Spec.ExternalID
	}
	return ""
}

// indexKey is obj's value in a read-through index (folded as the index stores it).
func indexKey(obj client.Object, index string) string {
	switch index {
	case v1alpha1.IndexUID:
		return v1alpha1.ScimID(obj)
	case v1alpha1.IndexExternalID:
		return externalIDOf(obj)
	case v1alpha1.IndexUserName:
		if u, ok := obj.(*v1alpha1.ScimUser); ok {
			return v1alpha1.FoldKey(u.Spec.UserName)
		}
	case v1alpha1.IndexDisplayName:
		if g, ok := obj.(*v1alpha1.ScimGroup); ok {
			return v1alpha1.FoldKey(g.Spec.DisplayName)
		}
	}
	return ""
}

// readThrough repeats a cache lookup of index = values that found nothing against the API
// server: by label for ids (in chunks of readThroughChunk) and externalIds, by the object name
// SCIM gives for userName and displayName. list is an empty list of the kind; the live objects
// whose index value is one of values are returned. Other indexes are not read through.
func (s *Store) readThrough(ctx context.Context, list client.ObjectList, index string, values ...string) ([]client.Object, error) {
	want := map[string]bool{}
	for _, v := range values {
		want[v] = true
	}
	var found []client.Object
	keep := func(l client.ObjectList) error {
		items, err := apimeta.ExtractList(l)
		if err != nil {
			return err
		}
		for _, it := range items {
			obj := it.(client.Object)
			if live(obj) && want[indexKey(obj, index)] {
				found = append(found, obj)
			}
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	switch index {
	case v1alpha1.IndexUID:
		var ids []string
		for v := range want {
			if len(validation.IsValidLabelValue(v)) == 0 {
				ids = append(ids, v)
			}
		}
		for len(ids) > 0 {
			chunk := ids[:min(readThroughChunk, len(ids))]
			ids = ids[len(chunk):]
			req, err := labels.NewRequirement(idLabel, selection.In, chunk)
			if err != nil {
				return nil, err
			}
			page := list.DeepCopyObject().(client.ObjectList)
			if err := s.live.List(ctx, page, client.MatchingLabelsSelector{Selector: labels.NewSelector().Add(*req)}); err != nil {
				return nil, fmt.Errorf("reading through by id: %w", err)
			}
			if err := keep(page); err != nil {
				return nil, err
			}
		}
	case v1alpha1.IndexExternalID:
		for v := range want {
			page := list.DeepCopyObject().(client.ObjectList)
			if err := s.live.List(ctx, page, client.MatchingLabels{externalIDLabel: externalIDHash(v)}); err != nil {
				return nil, fmt.Errorf("reading through by externalId: %w", err)
			}
			if err := keep(page); err != nil {
				return nil, err
			}
		}
	case v1alpha1.IndexUserName, v1alpha1.IndexDisplayName:
		for v := range want {
			obj := newItem(list)
			err := s.live.Get(ctx, client.ObjectKey{Name: v1alpha1.ObjectNameFor(v)}, obj)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("reading through by name: %w", err)
			}
			if live(obj) && want[indexKey(obj, index)] {
				found = append(found, obj)
			}
		}
	}
	return found, nil
}

// newItem returns an empty object of list's kind.
func newItem(list client.ObjectList) client.Object {
	if _, ok := list.(*v1alpha1.ScimGroupList); ok {
		return &v1alpha1.ScimGroup{}
	}
	return &v1alpha1.ScimUser{}
}
