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
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/utils/ptr"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// createUsers creates n users named prefix-0..n-1, members of group, in parallel.
func createUsers(ctx context.Context, partition, prefix string, n int, group string) ([]*scimv1.ScimUser, error) {
	users := make([]*scimv1.ScimUser, n)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i := range n {
		g.Go(func() error {
			u := &scimv1.ScimUser{}
			u.Name = scimv1.ObjectNameFor(fmt.Sprintf("%s-%d", prefix, i))
			u.Labels = suiteLabels(partition)
			u.Spec = scimv1.ScimUserSpec{UserName: fmt.Sprintf("%s-%d", prefix, i), Active: ptr.To(true), MemberOf: []string{group}}
			users[i] = u
			return k8s.Create(ctx, u)
		})
	}
	return users, g.Wait()
}

func TestLargeGroupIsSharded(t *testing.T) {
	const members = 20000
	max := mainOptions.MaxSubjectsPerBinding
	ns := newNamespace(t, "sharding-a", nil)
	g := newGroup(t, "", "sharding-everyone")
	b := newBinding(t, "", "sharding-everyone-read", g, ns.Name)
	start := time.Now()
	users, err := createUsers(ctxFor(t), "", "shard-user", members, g.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("created %d users in %s", members, time.Since(start).Round(time.Millisecond))

	expectExactShards := func(want map[string]bool) func() error {
		return func() error {
			rbs, err := managedRoleBindings(b.Name)
			if err != nil {
				return err
			}
			seen := map[string]bool{}
			for _, rb := range rbs {
				if len(rb.Subjects) > max {
					return fmt.Errorf("%s holds %d subjects, more than %d", rb.Name, len(rb.Subjects), max)
				}
				for _, s := range rb.Subjects {
					if seen[s.Name] {
						return fmt.Errorf("%s appears twice", s.Name)
					}
					seen[s.Name] = true
				}
			}
			if len(seen) != len(want) {
				return fmt.Errorf("%d subjects across %d RoleBindings, want %d", len(seen), len(rbs), len(want))
			}
			for name := range want {
				if !seen[name] {
					return fmt.Errorf("%s missing", name)
				}
			}
			if len(rbs) < len(want)/max {
				return fmt.Errorf("only %d RoleBindings", len(rbs))
			}
			return nil
		}
	}
	want := map[string]bool{}
	for _, u := range users {
		want["oidc:"+u.Spec.UserName] = true
	}
	eventuallyWithin(t, 3*time.Minute, "20,000 members sharded exactly", expectExactShards(want))
	t.Logf("all %d members bound %s after the first create", members, time.Since(start).Round(time.Millisecond))

	// Revoking one member touches the shards without losing anyone else.
	leaving := users[members/2]
	update(t, leaving, func(u *scimv1.ScimUser) { u.Spec.Active = ptr.To(false) })
	delete(want, "oidc:"+leaving.Spec.UserName)
	eventually(t, "one member revoked, the rest intact", expectExactShards(want))
}
