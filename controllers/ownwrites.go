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
	"hash/fnv"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ownWrites remembers, per managed RoleBinding and ClusterRoleBinding, a hash of the subjects
// kubescim last wrote into it, so that the watch can tell the echo of its own grant from drift
// that grants. Without it every grant kubescim writes during an IdP's initial sync came back as
// "subjects added", was queued at revocation priority, and the sync's grants rode ahead of the
// revocations they were meant to wait behind.
type ownWrites struct {
	mu     sync.Mutex
	hashes map[string]*recentHashes // by namespace/name (a ClusterRoleBinding has no namespace)
}

// recentWrites is how many writes per object are remembered: under load the watch delivers an
// object's update after kubescim has written it again, and that echo is still its own.
const recentWrites = 4

// recentHashes are the subjects hashes of an object's last writes, newest at next-1.
type recentHashes struct {
	hashes [recentWrites]uint64
	next   int
	n      int
}

func newOwnWrites() *ownWrites { return &ownWrites{hashes: map[string]*recentHashes{}} }

// wrote notes that o's subjects are about to be written. A nil ownWrites (a reconciler that
// nobody watches, as in previews) remembers nothing.
func (w *ownWrites) wrote(o client.Object) {
	if w == nil {
		return
	}
	key := ownWriteKey(o)
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.hashes[key]
	if r == nil {
		r = &recentHashes{}
		w.hashes[key] = r
	}
	r.hashes[r.next] = subjectsHash(o)
	r.next = (r.next + 1) % recentWrites
	r.n = min(r.n+1, recentWrites)
}

// forget drops o, which is about to be deleted.
func (w *ownWrites) forget(o client.Object) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.hashes, ownWriteKey(o))
}

// isEcho reports whether o holds exactly the subjects of one of kubescim's recent writes.
func (w *ownWrites) isEcho(o client.Object) bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.hashes[ownWriteKey(o)]
	if r == nil {
		return false
	}
	h := subjectsHash(o)
	for i := range r.n {
		if r.hashes[i] == h {
			return true
		}
	}
	return false
}

// driftGrants is true when an update of a managed object added a subject that kubescim did
// not write: drift whose repair takes access away.
func (w *ownWrites) driftGrants(o, n client.Object) bool {
	return subjectsAdded(o, n) && !w.isEcho(n)
}

func ownWriteKey(o client.Object) string { return o.GetNamespace() + "/" + o.GetName() }

// subjectsHash hashes o's subjects in order (kubescim writes them sorted, and the API server
// keeps the order).
func subjectsHash(o client.Object) uint64 {
	h := fnv.New64a()
	for _, s := range subjectsOf(o) {
		h.Write([]byte(subjectKey(s))) // hash.Hash: Write never returns an error
		h.Write([]byte{0})
	}
	return h.Sum64()
}
