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
	"cmp"
	"slices"
	"strings"
	"sync"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The list order. An unfiltered list page used to list, sort and slice the whole directory:
// O(N log N) per page, O(N²/count) for an IdP's walk of it. An order follows the informer's
// events instead and holds the keys of the live objects sorted in the default order, so that a
// page is a slice of it: O(count), whatever its startIndex.
//
// Why a sorted slice and not a B-tree (github.com/google/btree): a page at startIndex k is the
// k-th key, which a slice finds at once and a B-tree without rank counts only by stepping over
// k keys. And the keys arrive nearly in order: objects are created newest last, so an add is an
// append, or an insert among the last few keys (same second, later name). Only the initial list
// (in name order) and deletes cost more: the first appends out of order and the order is sorted
// once, at the next read; a delete moves the keys after it, 24 bytes each.
//
// Memory: one key per live object, 24 bytes (creation time, and the name string, which shares
// the cache object's bytes), plus the slice's spare capacity (at most 25% beyond 256 keys).

// orderKey is an object's place in the default order; neither part changes in its life.
type orderKey struct {
	created int64 // creationTimestamp, Unix nanoseconds
	name    string
}

func keyOf(obj client.Object) orderKey {
	return orderKey{created: obj.GetCreationTimestamp().UnixNano(), name: obj.GetName()}
}

func compareKeys(a, b orderKey) int {
	if c := cmp.Compare(a.created, b.created); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

// CompareDefaultOrder orders objects as list pages do without sortBy: by creation, then name, so
// that pages are stable between requests and every replica answers the same.
func CompareDefaultOrder(a, b client.Object) int { return compareKeys(keyOf(a), keyOf(b)) }

// nearEnd is how far from the end an add still inserts in place; further back it appends and
// leaves the sort to the next read (the initial list arrives in name order, not creation order).
const nearEnd = 256

// order is the default order of one kind's live objects, fed by its informer's events.
type order struct {
	mu     sync.Mutex
	keys   []orderKey
	sorted bool // keys is sorted and without duplicates
	// synced reports whether the handler has been given every object the informer held when it
	// was registered; nil until registered. Until then the order is incomplete: not read.
	synced toolscache.InformerSynced
}

func newOrder() *order { return &order{sorted: true} }

// follow records the registration of the order's event handler.
func (o *order) follow(synced toolscache.InformerSynced) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.synced = synced
}

// following reports whether the order holds every object of the cache.
func (o *order) following() bool {
	o.mu.Lock()
	synced := o.synced
	o.mu.Unlock()
	return synced != nil && synced()
}

// handler keeps the order on the informer's events, then calls then (which wakes writers, so a
// writer woken by its own write finds it in the order too).
func (o *order) handler(then func()) toolscache.ResourceEventHandlerFuncs {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if c, ok := obj.(client.Object); ok && live(c) {
				o.add(keyOf(c))
			}
			then()
		},
		UpdateFunc: func(oldObj, newObj any) {
			o.update(oldObj, newObj)
			then()
		},
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if c, ok := obj.(client.Object); ok {
				o.remove(keyOf(c))
			}
			then()
		},
	}
}

// update follows a change: an object leaves the order when it starts being deleted (SCIM no
// longer lists it), and a key that changed (it never should) moves.
func (o *order) update(oldObj, newObj any) {
	oldC, _ := oldObj.(client.Object)
	newC, ok := newObj.(client.Object)
	if !ok {
		return
	}
	newKey := keyOf(newC)
	if oldC != nil && keyOf(oldC) != newKey {
		o.remove(keyOf(oldC))
		oldC = nil
	}
	switch {
	case !live(newC):
		o.remove(newKey)
	case oldC != nil && live(oldC):
		// Most updates: already in the order. While the keys are unsorted, appending again
		// would pile up duplicates.
		o.refresh(newKey)
	default:
		o.add(newKey)
	}
}

// add inserts k (once: a key already there is refreshed).
func (o *order) add(k orderKey) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.keys)
	if !o.sorted || (n > 0 && compareKeys(o.keys[max(0, n-nearEnd)], k) > 0) {
		o.keys = append(o.keys, k) // a duplicate goes when the keys are sorted
		o.sorted = false
		return
	}
	o.insertLocked(k)
}

// refresh points k at the newest object's name bytes, so that the order does not keep an old
// version's name alive (and inserts k if it was missing). Unsorted keys wait for the sort.
func (o *order) refresh(k orderKey) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sorted {
		o.insertLocked(k)
	}
}

func (o *order) insertLocked(k orderKey) {
	i, found := slices.BinarySearchFunc(o.keys, k, compareKeys)
	if found {
		o.keys[i] = k
		return
	}
	o.keys = slices.Insert(o.keys, i, k)
}

// remove deletes k, if the order holds it.
func (o *order) remove(k orderKey) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sortLocked()
	if i, found := slices.BinarySearchFunc(o.keys, k, compareKeys); found {
		o.keys = slices.Delete(o.keys, i, i+1)
	}
}

func (o *order) sortLocked() {
	if o.sorted {
		return
	}
	slices.SortFunc(o.keys, compareKeys)
	o.keys = slices.CompactFunc(o.keys, func(a, b orderKey) bool { return a == b })
	o.sorted = true
}

// contains reports whether the order holds k.
func (o *order) contains(k orderKey) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sortLocked()
	_, found := slices.BinarySearchFunc(o.keys, k, compareKeys)
	return found
}

// page returns the names at positions [offset, offset+limit) and how many objects there are.
func (o *order) page(offset, limit int) (names []string, total int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sortLocked()
	total = len(o.keys)
	if offset < 0 || offset >= total || limit <= 0 {
		return nil, total
	}
	page := o.keys[offset:min(total, offset+limit)]
	names = make([]string, len(page))
	for i, k := range page {
		names[i] = k.name
	}
	return names, total
}
