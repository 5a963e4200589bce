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
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// Repository is what the SCIM handlers store users and groups through. Objects it returns may be
// the cache's own: never modify them; updates go through a mutate function, which receives a
// copy.
type Repository interface {
	// GetUser returns the live user with SCIM id id, reading through on a cache miss.
	GetUser(ctx context.Context, id string) (*v1alpha1.ScimUser, error)
	// ListUsers lists live users; with an index, those whose index value is value, reading
	// through when the cache has none (v1alpha1.IndexUID, IndexUserName, IndexExternalID).
	ListUsers(ctx context.Context, index, value string) ([]*v1alpha1.ScimUser, error)
	// CreateUser creates a user with spec and a new SCIM id.
	CreateUser(ctx context.Context, spec v1alpha1.ScimUserSpec) (*v1alpha1.ScimUser, error)
	// UpdateUser writes mutate's change of u (see Store.UpdateUser).
	UpdateUser(ctx context.Context, u *v1alpha1.ScimUser, pre Preconditions, mutate func(*v1alpha1.ScimUser) error) (*v1alpha1.ScimUser, error)
	// DeleteUser deletes u; its memberships go with it.
	DeleteUser(ctx context.Context, u *v1alpha1.ScimUser, pre Preconditions) error
	// CheckUserNameFree refuses with NameTaken when a user other than self holds userName.
	CheckUserNameFree(ctx context.Context, userName string, self types.UID) error

	// GetGroup returns the live group with SCIM id id, reading through on a cache miss.
	GetGroup(ctx context.Context, id string) (*v1alpha1.ScimGroup, error)
	// GroupByName returns the live group of object name name from the cache, or NotFound.
	GroupByName(ctx context.Context, name string) (*v1alpha1.ScimGroup, error)
	// ListGroups is ListUsers for groups (IndexDisplayName instead of IndexUserName).
	ListGroups(ctx context.Context, index, value string) ([]*v1alpha1.ScimGroup, error)
	// CreateGroup creates a group with spec and a new SCIM id, without members.
	CreateGroup(ctx context.Context, spec v1alpha1.ScimGroupSpec) (*v1alpha1.ScimGroup, error)
	// UpdateGroup writes mutate's change of g (see Store.UpdateUser).
	UpdateGroup(ctx context.Context, g *v1alpha1.ScimGroup, pre Preconditions, mutate func(*v1alpha1.ScimGroup) error) (*v1alpha1.ScimGroup, error)
	// DeleteGroup deletes g; the group controller's finalizer then clears its members.
	DeleteGroup(ctx context.Context, g *v1alpha1.ScimGroup, pre Preconditions) error
	// CheckDisplayNameFree refuses with NameTaken when a group other than self has displayName.
	CheckDisplayNameFree(ctx context.Context, displayName string, self types.UID) error
	// CheckGroupPreconditions decides pre on the live group, not the cache, and returns it.
	CheckGroupPreconditions(ctx context.Context, g *v1alpha1.ScimGroup, pre Preconditions) (*v1alpha1.ScimGroup, error)

	// FindMembers returns the users and groups with the given SCIM ids, by id; ids it cannot
	// find are missing from the answer.
	FindMembers(ctx context.Context, ids []string) (map[string]client.Object, error)
	// GroupMembers lists the direct members of the group of object name name.
	GroupMembers(ctx context.Context, name string) ([]*v1alpha1.ScimUser, []*v1alpha1.ScimGroup, error)
	// ChangeMembers applies changes to g's members, found by FindMembers, and returns how many
	// members it wrote.
	ChangeMembers(ctx context.Context, g *v1alpha1.ScimGroup, changes []MemberChange, found map[string]client.Object) (int, error)
	// StampGroup records a change of g's members on g itself (version, lastModified, changer).
	StampGroup(ctx context.Context, g *v1alpha1.ScimGroup) (*v1alpha1.ScimGroup, error)

	// UserPage returns the users at positions [offset, offset+limit) of the default order
	// (CompareDefaultOrder) and how many users there are.
	UserPage(ctx context.Context, offset, limit int) ([]*v1alpha1.ScimUser, int, error)
	// GroupPage is UserPage for groups.
	GroupPage(ctx context.Context, offset, limit int) ([]*v1alpha1.ScimGroup, int, error)

	// FollowCacheEvents registers the store's handlers of the informers' events: they keep the
	// list order (order.go) and wake writers waiting for their own writes, which would poll
	// otherwise.
	FollowCacheEvents(ctx context.Context, informers cache.Informers) error
}

// apiTimeout bounds every call to the API server, so a slow control plane answers "unavailable",
// never a hung request.
const apiTimeout = 10 * time.Second

// Clients are what a Store reads and writes through.
type Clients struct {
	// Cache is the manager's cache, with the v1alpha1 indexes.
	Cache client.Reader
	// Live reads the API server: conflict retries, read-through, uniqueness checks.
	Live client.Reader
	// Writer writes through the API server, with the SCIM server's field owner.
	Writer client.Client
}

// Store is the Repository over a manager's cache and the API server.
type Store struct {
	cache  client.Reader
	live   client.Reader
	writer client.Client
	wakes  *cacheWakes
	// users and groups are the default list order of each kind (order.go).
	users, groups *order
	// stampers coalesce the stamps of concurrent member changes of one group (stamps.go).
	stampers groupStampers
	// memberListings counts reads of a whole member list (MemberListings).
	memberListings atomic.Int64
}

var _ Repository = &Store{}

// New returns a Store over c.
func New(c Clients) *Store {
	return &Store{cache: c.Cache, live: c.Live, writer: c.Writer, wakes: newCacheWakes(), users: newOrder(), groups: newOrder()}
}

// MemberListings counts the reads of a whole member list so far, so tests can prove that
// excludedAttributes=members and member adds and removes never list members.
func (s *Store) MemberListings() int64 { return s.memberListings.Load() }

// FollowCacheEvents registers, on the informers' ScimUser and ScimGroup events, the handlers that
// keep the list order and then wake waiting writers. Until then, or if it fails, list pages sort
// the whole kind and writers poll the cache.
func (s *Store) FollowCacheEvents(ctx context.Context, informers cache.Informers) error {
	kinds := []struct {
		obj   client.Object
		order *order
	}{{&v1alpha1.ScimUser{}, s.users}, {&v1alpha1.ScimGroup{}, s.groups}}
	for _, k := range kinds {
		inf, err := informers.GetInformer(ctx, k.obj)
		if err != nil {
			return fmt.Errorf("getting the %T informer: %w", k.obj, err)
		}
		reg, err := inf.AddEventHandler(k.order.handler(s.wakes.wake))
		if err != nil {
			return fmt.Errorf("following %T events: %w", k.obj, err)
		}
		k.order.follow(reg.HasSynced)
	}
	s.wakes.handlersRegistered()
	return nil
}
