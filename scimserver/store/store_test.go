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
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

var uniqCounter atomic.Int64

// uniq returns a name no other test uses.
func uniq(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, uniqCounter.Add(1))
}

// blindCache is a replica's cache that has not seen any write yet: lists are empty, so every
// lookup must read through to the API server.
type blindCache struct{ client.Reader }

func (blindCache) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

// TestCreateUserNameTaken: a second create of a userName (in other letter case) is refused
// NameTaken; after a rename, the old name goes to a new user under a generated object name.
func TestCreateUserNameTaken(t *testing.T) {
	g := NewWithT(t)
	ctx := WithChangedBy(context.Background(), "okta")
	name := uniq("alice")
	u, err := testStore.CreateUser(ctx, v1alpha1.ScimUserSpec{UserName: name})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(v1alpha1.ScimID(u)).NotTo(BeEmpty())
	g.Expect(u.Annotations).To(HaveKeyWithValue(v1alpha1.ChangedByAnnotation, "okta"))
	g.Expect(u.Annotations[CreatedAtAnnotation]).To(Equal(u.Annotations[v1alpha1.ChangedAtAnnotation]))

	_, err = testStore.CreateUser(ctx, v1alpha1.ScimUserSpec{UserName: strings.ToUpper(name)})
	g.Expect(ReasonOf(err)).To(Equal(NameTaken))

	renamed, err := testStore.UpdateUser(ctx, u, Preconditions{}, func(next *v1alpha1.ScimUser) error {
		next.Spec.UserName = name + "-renamed"
		return nil
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(renamed.Name).To(Equal(u.Name))
	again, err := testStore.CreateUser(ctx, v1alpha1.ScimUserSpec{UserName: name})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again.Name).To(HavePrefix(u.Name + "-"))
}

// TestGetUserReadsThrough: a store whose cache has not seen a user yet finds it by id, userName
// and externalId on the API server; an id nobody has is NotFound.
func TestGetUserReadsThrough(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	u, err := testStore.CreateUser(ctx, v1alpha1.ScimUserSpec{UserName: uniq("bob"), ExternalID: uniq("ext")})
	g.Expect(err).NotTo(HaveOccurred())
	lagging := storeWith(Clients{Cache: blindCache{testMgr.GetCache()}})

	got, err := lagging.GetUser(ctx, v1alpha1.ScimID(u))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.UID).To(Equal(u.UID))
	byName, err := lagging.ListUsers(ctx, v1alpha1.IndexUserName, v1alpha1.FoldKey(u.Spec.UserName))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(byName).To(HaveLen(1))
	byExternalID, err := lagging.ListUsers(ctx, v1alpha1.IndexExternalID, u.Spec.ExternalID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(byExternalID).To(HaveLen(1))

	_, err = lagging.GetUser(ctx, "no-such-id")
	g.Expect(ReasonOf(err)).To(Equal(NotFound))
}

// TestUpdateConflicts: a write that meets a conflict is re-read and re-applied, unless the
// caller named the version it replaces (IfMatch): then the conflict is PreconditionFailed and
// mutate runs once.
func TestUpdateConflicts(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		pre        func(version string) Preconditions
		wantReason Reason
		wantRounds int
	}{
		{"retried", func(string) Preconditions { return Preconditions{} }, 0, 2},
		{"IfMatch", func(version string) Preconditions {
			return Preconditions{IfMatch: func(v string) bool { return v == version }}
		}, PreconditionFailed, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := testStore.CreateUser(ctx, v1alpha1.ScimUserSpec{UserName: uniq("carol")})
			g.Expect(err).NotTo(HaveOccurred())
			rounds := 0
			_, err = testStore.UpdateUser(ctx, u, tc.pre(u.ResourceVersion), func(next *v1alpha1.ScimUser) error {
				rounds++
				if rounds == 1 {
					// Another writer gets in between this round's read and its write.
					other := next.DeepCopy()
					other.Spec.NickName = "other"
					g.Expect(k8sClient.Update(ctx, other)).To(Succeed())
				}
				next.Spec.Title = "mine"
				return nil
			})
			g.Expect(ReasonOf(err)).To(Equal(tc.wantReason))
			g.Expect(rounds).To(Equal(tc.wantRounds))
		})
	}
}

// TestMembersAndStamps: member changes write the members' memberOf (a replace removes who is
// not named), the member list is read from the index only for a replace, and a stamp gives the
// group a new version.
func TestMembersAndStamps(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	group, err := testStore.CreateGroup(ctx, v1alpha1.ScimGroupSpec{DisplayName: uniq("devs")})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(group.Finalizers).To(ContainElement(v1alpha1.GroupFinalizer))
	var ids []string
	for range 2 {
		u, err := testStore.CreateUser(ctx, v1alpha1.ScimUserSpec{UserName: uniq("member")})
		g.Expect(err).NotTo(HaveOccurred())
		ids = append(ids, v1alpha1.ScimID(u))
	}
	found, err := testStore.FindMembers(ctx, append(ids, "no-such-member"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(found).To(HaveLen(2))

	listings := testStore.MemberListings()
	changed, err := testStore.ChangeMembers(ctx, group, []MemberChange{{Kind: AddMembers, IDs: ids}}, found)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changed).To(Equal(2))
	g.Expect(testStore.MemberListings()).To(Equal(listings), "an add read the member list")
	users, _, err := testStore.GroupMembers(ctx, group.Name)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(users).To(HaveLen(2))

	// As a request does, find the members again: found holds them as they were.
	found, err = testStore.FindMembers(ctx, ids[:1])
	g.Expect(err).NotTo(HaveOccurred())
	changed, err = testStore.ChangeMembers(ctx, group, []MemberChange{{Kind: ReplaceMembers, IDs: ids[:1]}}, found)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changed).To(Equal(1))
	users, _, err = testStore.GroupMembers(ctx, group.Name)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(slices.Collect(func(yield func(string) bool) {
		for _, u := range users {
			yield(v1alpha1.ScimID(u))
		}
	})).To(ConsistOf(ids[0]))

	stamped, err := testStore.StampGroup(ctx, group)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(stamped.ResourceVersion).NotTo(Equal(group.ResourceVersion))
}

// TestDeleteUser: a delete with a stale IfMatch is PreconditionFailed and deletes nothing; a
// delete is read by this store at once (read-your-writes), and a second one is NotFound.
func TestDeleteUser(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	u, err := testStore.CreateUser(ctx, v1alpha1.ScimUserSpec{UserName: uniq("dave")})
	g.Expect(err).NotTo(HaveOccurred())
	stale := Preconditions{IfMatch: func(v string) bool { return v == "1" }}
	g.Expect(ReasonOf(testStore.DeleteUser(ctx, u, stale))).To(Equal(PreconditionFailed))
	_, err = testStore.GetUser(ctx, v1alpha1.ScimID(u))
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(testStore.DeleteUser(ctx, u, Preconditions{})).To(Succeed())
	_, err = testStore.GetUser(ctx, v1alpha1.ScimID(u))
	g.Expect(ReasonOf(err)).To(Equal(NotFound))
	g.Expect(ReasonOf(testStore.DeleteUser(ctx, u, Preconditions{}))).To(Equal(NotFound))
}
