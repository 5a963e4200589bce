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
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

var orderEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// orderUser is a user created second seconds after orderEpoch.
func orderUser(name string, second int) *v1alpha1.ScimUser {
	return &v1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: name,
		CreationTimestamp: metav1.NewTime(orderEpoch.Add(time.Duration(second) * time.Second))}}
}

func allNames(o *order) []string {
	names, total := o.page(0, 1<<30)
	if len(names) != total {
		panic(fmt.Sprintf("a page of everything has %d of %d names", len(names), total))
	}
	return names
}

// TestOrderFollowsEvents: whatever order the events come in (the initial list arrives by name),
// pages are in creation order, then name; updates neither duplicate nor move an object; an
// object being deleted leaves; deletes, tombstones included, remove exactly their object.
func TestOrderFollowsEvents(t *testing.T) {
	g := NewWithT(t)
	o := newOrder()
	h := o.handler(func() {})
	// The initial list, by name: out of creation order.
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		h.OnAdd(orderUser(name, 10-i), true)
	}
	g.Expect(allNames(o)).To(Equal([]string{"e", "d", "c", "b", "a"}))
	// New objects: the newest, and one in the same second as "e" (ordered by name).
	h.OnAdd(orderUser("f", 20), false)
	h.OnAdd(orderUser("ea", 6), false)
	g.Expect(allNames(o)).To(Equal([]string{"e", "ea", "d", "c", "b", "a", "f"}))

	// Updates keep one key per object, also while the keys are unsorted.
	h.OnUpdate(orderUser("c", 8), orderUser("c", 8))
	h.OnAdd(orderUser("0", 1), false) // far back: appended, unsorted
	h.OnUpdate(orderUser("d", 7), orderUser("d", 7))
	h.OnUpdate(orderUser("d", 7), orderUser("d", 7))
	g.Expect(allNames(o)).To(Equal([]string{"0", "e", "ea", "d", "c", "b", "a", "f"}))

	// An object being deleted (a finalizer holds it) is no longer listed; its final delete
	// changes nothing more.
	deleting := orderUser("b", 9)
	deleting.DeletionTimestamp = ptrTime(orderEpoch)
	h.OnUpdate(orderUser("b", 9), deleting)
	g.Expect(allNames(o)).To(Equal([]string{"0", "e", "ea", "d", "c", "a", "f"}))
	h.OnDelete(deleting)
	h.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "e", Obj: orderUser("e", 6)})
	h.OnDelete(orderUser("nobody", 3))
	g.Expect(allNames(o)).To(Equal([]string{"0", "ea", "d", "c", "a", "f"}))
	// A key that changed (it never should) moves; an object added being deleted is not listed.
	h.OnUpdate(orderUser("a", 10), orderUser("a", 30))
	gone := orderUser("g", 2)
	gone.DeletionTimestamp = ptrTime(orderEpoch)
	h.OnAdd(gone, false)
	g.Expect(allNames(o)).To(Equal([]string{"0", "ea", "d", "c", "f", "a"}))
	g.Expect(o.contains(keyOf(orderUser("a", 30)))).To(BeTrue())
	g.Expect(o.contains(keyOf(orderUser("a", 10)))).To(BeFalse())
}

func ptrTime(t time.Time) *metav1.Time { m := metav1.NewTime(t); return &m }

// TestOrderPageBounds: a page is the slice [offset, offset+limit) of the order, empty past the
// end and for limit 0, and always with the exact total.
func TestOrderPageBounds(t *testing.T) {
	o := newOrder()
	h := o.handler(func() {})
	for i := range 10 {
		h.OnAdd(orderUser(fmt.Sprintf("u%02d", i), i), false)
	}
	for _, tc := range []struct {
		offset, limit int
		want          []string
	}{
		{0, 3, []string{"u00", "u01", "u02"}},
		{8, 3, []string{"u08", "u09"}},
		{9, 100, []string{"u09"}},
		{10, 3, nil},
		{50, 3, nil},
		{2, 0, nil},
		{-1, 3, nil},
	} {
		names, total := o.page(tc.offset, tc.limit)
		if !slices.Equal(names, tc.want) || total != 10 {
			t.Errorf("page(%d, %d) = %v of %d, want %v of 10", tc.offset, tc.limit, names, total, tc.want)
		}
	}
}

// TestOrderConcurrent: pages read while events arrive (run with -race) are always sorted, never
// hold a key twice, and the end state is exactly the objects added and not deleted.
func TestOrderConcurrent(t *testing.T) {
	o := newOrder()
	h := o.handler(func() {})
	const writers, perWriter = 4, 500
	var wg sync.WaitGroup
	done := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() {
		defer close(readerErr)
		for {
			select {
			case <-done:
				return
			default:
			}
			names, total := o.page(0, 1<<30)
			if len(names) != total {
				readerErr <- fmt.Errorf("page of %d names, total %d", len(names), total)
				return
			}
			seen := map[string]bool{}
			for _, n := range names {
				if seen[n] {
					readerErr <- fmt.Errorf("%s listed twice", n)
					return
				}
				seen[n] = true
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				u := orderUser(fmt.Sprintf("w%d-%04d", w, i), (i*7919)%perWriter)
				h.OnAdd(u, false)
				h.OnUpdate(u, u)
				if i%3 == 0 {
					h.OnDelete(u)
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	if err := <-readerErr; err != nil {
		t.Fatal(err)
	}
	var want []*v1alpha1.ScimUser
	for w := range writers {
		for i := range perWriter {
			if i%3 != 0 {
				want = append(want, orderUser(fmt.Sprintf("w%d-%04d", w, i), (i*7919)%perWriter))
			}
		}
	}
	slices.SortFunc(want, func(a, b *v1alpha1.ScimUser) int { return CompareDefaultOrder(a, b) })
	wantNames := make([]string, len(want))
	for i, u := range want {
		wantNames[i] = u.Name
	}
	if got := allNames(o); !slices.Equal(got, wantNames) {
		t.Fatalf("end state has %d names, want %d (first differences: %v)", len(got), len(wantNames), firstDiff(got, wantNames))
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("at %d: %s != %s", i, a[i], b[i])
		}
	}
	return "one is a prefix of the other"
}
