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
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// liveUserNames are the names of the live users on the API server, in the default order.
func liveUserNames(g Gomega, ctx context.Context) []string {
	var list v1alpha1.ScimUserList
	g.Expect(k8sClient.List(ctx, &list)).To(Succeed())
	var users []*v1alpha1.ScimUser
	for i := range list.Items {
		if live(&list.Items[i]) {
			users = append(users, &list.Items[i])
		}
	}
	slices.SortFunc(users, func(a, b *v1alpha1.ScimUser) int { return CompareDefaultOrder(a, b) })
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Name
	}
	return names
}

func pageNames(g Gomega, ctx context.Context, s *Store, offset, limit int) ([]string, int) {
	users, total, err := s.UserPage(ctx, offset, limit)
	g.Expect(err).NotTo(HaveOccurred())
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Name
	}
	return names, total
}

// TestUserPageFollowsTheCache: users created and deleted straight through the API server (as
// with kubectl) appear in and leave the pages of a store whose order was registered after the
// cache had synced (it learnt the existing users from the handler's initial list); a store
// without the order (not registered) answers the same pages by sorting every user.
func TestUserPageFollowsTheCache(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(testStore.users.following()).To(BeTrue())
	unordered := storeWith(Clients{})
	g.Expect(unordered.users.following()).To(BeFalse())

	var created []*v1alpha1.ScimUser
	for range 3 {
		u := &v1alpha1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: uniq("paged")}, Spec: v1alpha1.ScimUserSpec{UserName: uniq("paged")}}
		g.Expect(k8sClient.Create(ctx, u)).To(Succeed())
		created = append(created, u)
	}
	walk := func(g Gomega, s *Store) []string {
		var names []string
		for offset := 0; ; offset += 2 {
			page, total := pageNames(g, ctx, s, offset, 2)
			names = append(names, page...)
			if offset+2 >= total {
				return names
			}
		}
	}
	g.Eventually(func(g Gomega) {
		want := liveUserNames(g, ctx)
		g.Expect(want).To(ContainElement(created[2].Name))
		g.Expect(walk(g, testStore)).To(Equal(want))
		g.Expect(walk(g, unordered)).To(Equal(want))
	}, 30*time.Second, 20*time.Millisecond).Should(Succeed())

	g.Expect(k8sClient.Delete(ctx, created[1])).To(Succeed())
	g.Eventually(func(g Gomega) {
		want := liveUserNames(g, ctx)
		g.Expect(want).NotTo(ContainElement(created[1].Name))
		g.Expect(walk(g, testStore)).To(Equal(want))
		_, total := pageNames(g, ctx, testStore, 0, 0)
		g.Expect(total).To(Equal(len(want)))
	}, 30*time.Second, 20*time.Millisecond).Should(Succeed())

	for _, u := range []*v1alpha1.ScimUser{created[0], created[2]} {
		g.Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, u))).To(Succeed())
	}
}

// TestUserPageReadsItsWrites: a user created or deleted through the store is in (or out of) the
// order as soon as the write returns.
func TestUserPageReadsItsWrites(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	u, err := testStore.CreateUser(ctx, v1alpha1.ScimUserSpec{UserName: uniq("own")})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(testStore.users.contains(keyOf(u))).To(BeTrue())
	names, total := pageNames(g, ctx, testStore, 0, 1<<20)
	g.Expect(names).To(ContainElement(u.Name))
	g.Expect(total).To(Equal(len(names)))

	g.Expect(testStore.DeleteUser(ctx, u, Preconditions{})).To(Succeed())
	g.Expect(testStore.users.contains(keyOf(u))).To(BeFalse())
	names, _ = pageNames(g, ctx, testStore, 0, 1<<20)
	g.Expect(names).NotTo(ContainElement(u.Name))
}
