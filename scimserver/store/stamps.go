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
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// StampGroup stamps the group after a membership change, so its version and lastModified
// change with its member list, and the audit trail names the changer. Concurrent
// member changes of one group share stamps (see groupStampers): the answer is the group as
// written by a stamp that began after this request's member writes.
func (s *Store) StampGroup(ctx context.Context, g *v1alpha1.ScimGroup) (*v1alpha1.ScimGroup, error) {
	written, err := s.stampers.stamp(ctx, g, func(ctx context.Context, g *v1alpha1.ScimGroup) (*v1alpha1.ScimGroup, error) {
		next := g.DeepCopy()
		stamp(ctx, next)
		pctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		if err := s.writer.Patch(pctx, next, client.MergeFrom(g)); err != nil {
			return nil, err
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	// Each request waits for the cache itself, so the next stamp need not. written is shared
	// by the batch: read only.
	s.awaitCache(ctx, written)
	return written, nil
}

// groupStampers coalesce the stamps of one group (group commit): while a stamp is being
// written, the requests that finish their member writes join the next one, which a single
// write serves once the current one is done. 100 concurrent member adds then cost a few writes
// of the group object instead of 100 contending ones, and every request still answers a version
// written after its own change.
type groupStampers struct {
	mu     sync.Mutex
	groups map[types.UID]*groupStamper
}

type groupStamper struct {
	running bool        // a writer goroutine serves this group
	next    *stampBatch // the requests waiting for the next write; nil when none
}

type stampBatch struct {
	done   chan struct{}
	ctx    context.Context // the latest joiner's: its token is named as the changer
	group  *v1alpha1.ScimGroup
	result *v1alpha1.ScimGroup
	err    error
}

// stamp joins the next stamp of g's group and waits until it is written (or ctx ends).
func (st *groupStampers) stamp(ctx context.Context, g *v1alpha1.ScimGroup, write func(context.Context, *v1alpha1.ScimGroup) (*v1alpha1.ScimGroup, error)) (*v1alpha1.ScimGroup, error) {
	st.mu.Lock()
	if st.groups == nil {
		st.groups = map[types.UID]*groupStamper{}
	}
	gs := st.groups[g.UID]
	if gs == nil {
		gs = &groupStamper{}
		st.groups[g.UID] = gs
	}
	if gs.next == nil {
		gs.next = &stampBatch{done: make(chan struct{})}
	}
	b := gs.next
	b.ctx, b.group = ctx, g
	if !gs.running {
		gs.running = true
		go st.run(g.UID, gs, write)
	}
	st.mu.Unlock()
	select {
	case <-b.done:
		return b.result, b.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run writes the group's batches one after another until none is waiting.
func (st *groupStampers) run(uid types.UID, gs *groupStamper, write func(context.Context, *v1alpha1.ScimGroup) (*v1alpha1.ScimGroup, error)) {
	for {
		st.mu.Lock()
		b := gs.next
		if b == nil {
			gs.running = false
			delete(st.groups, uid)
			st.mu.Unlock()
			return
		}
		gs.next = nil
		st.mu.Unlock()
		// The write outlives a joiner that gives up; its values (token name, logger) stay.
		b.result, b.err = write(context.WithoutCancel(b.ctx), b.group)
		close(b.done)
	}
}
