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
	"slices"
	"sort"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Revocations first. The controllers' queues are controller-runtime's priority queues: the
// initial list and resyncs enter at handler.LowPriority, live events at 0. An IdP's initial
// sync is thousands of live grant events, so a deactivation arriving during it would wait
// behind them; a change that can take access away enters at revocationPriority instead, and an
// item already queued is moved up.

// The queues order passes; writeGate orders their writes at the API server. While an IdP's sync
// runs, every worker is busy with grant passes, and without a bound their writes (16 in flight
// per pass) queue up in the API server ahead of a revocation's, and slow the watch that brings
// the revocation's result to the authorizer. A write that removes a subject goes at once; writes
// that only grant share grantWriteSlots across every pass of the controller.

// grantWriteSlots bounds the grant-only RoleBinding writes in flight across all of a
// controller's passes. Measured on 2 cores (BenchmarkRevocationDuringSync): 8 halved the
// revocation p50 and doubled the sync's creates per second; 2 and 16 did worse.
const grantWriteSlots = 8

// writeGate admits RoleBinding writes; nil admits every write at once.
type writeGate chan struct{}

func newWriteGate() writeGate { return make(writeGate, grantWriteSlots) }

// enter waits for a slot when wait is set, and returns what gives the slot back.
func (g writeGate) enter(wait bool) (leave func()) {
	if g == nil || !wait {
		return func() {}
	}
	g <- struct{}{}
	return func() { <-g }
}

// revokingFirst returns the indexes of plans with the units that take a subject away first.
func revokingFirst(plans []unitPlan) (order []int, revokes []bool) {
	revokes = make([]bool, len(plans))
	order = make([]int, len(plans))
	for i, p := range plans {
		revokes[i] = p.removesSubject()
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return revokes[order[a]] && !revokes[order[b]] })
	return order, revokes
}

// removesSubject is true when the unit holds a subject its desired objects do not.
func (p unitPlan) removesSubject() bool {
	wanted := subjectKeys(p.desired)
	for _, o := range p.existing {
		if holdsUnwanted(o, wanted) {
			return true
		}
	}
	return false
}

// writes is true when converging the unit calls the API server; a unit in step takes no slot.
func (p unitPlan) writes() bool {
	for _, d := range p.desired {
		if e := p.existing[d.GetName()]; e == nil || !inSync(e, d) {
			return true
		}
	}
	return len(p.existing) > len(p.desired)
}

// revocationPriority ranks a request caused by a change that can take access away.
const revocationPriority = 100

// revoking tells whether an update can take access away; a delete always can.
type revoking func(oldObj, newObj client.Object) bool

// addRequest queues req, ahead of the rest when revocation is set and q supports priorities.
func addRequest(q interface{ Add(reconcile.Request) }, req reconcile.Request, revocation bool) {
	if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok && revocation {
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(revocationPriority)}, req)
		return
	}
	q.Add(req)
}

// userRevokes is true when a ScimUser update can take access away: its deletion started, it
// stopped being active, it left a group, or an attribute a subject may be named by changed
// (the old subject goes).
func userRevokes(o, n client.Object) bool {
	ou, nu := o.(*scimv1.ScimUser), n.(*scimv1.ScimUser)
	return deletionStarted(o, n) ||
		(ou.Spec.IsActive() && !nu.Spec.IsActive()) ||
		lostAny(ou.Spec.MemberOf, nu.Spec.MemberOf) ||
		subjectAttributesChanged(ou, nu)
}

// groupRevokes is true when a ScimGroup update can take access away: its deletion started, it
// was renamed away from the bindings that name or match it, or it left a parent group.
func groupRevokes(o, n client.Object) bool {
	og, ng := o.(*scimv1.ScimGroup), n.(*scimv1.ScimGroup)
	return deletionStarted(o, n) ||
		og.Spec.DisplayName != ng.Spec.DisplayName || // even in case: groupPatterns are case-sensitive
		lostAny(og.Spec.MemberOf, ng.Spec.MemberOf)
}

func deletionStarted(o, n client.Object) bool {
	return o.GetDeletionTimestamp().IsZero() && !n.GetDeletionTimestamp().IsZero()
}

// lostAny is true when some entry of before is missing from after.
func lostAny(before, after []string) bool {
	for _, s := range before {
		if !slices.Contains(after, s) {
			return true
		}
	}
	return false
}

func subjectAttributesChanged(o, n *scimv1.ScimUser) bool {
	for _, attr := range []SubjectAttribute{SubjectUserName, SubjectEmail, SubjectExternalID} {
		if subjectAttributeValue(o, attr) != subjectAttributeValue(n, attr) {
			return true
		}
	}
	return false
}

// subjectsAdded is true when an update of a managed (Cluster)RoleBinding added a subject:
// drift that grants, whose repair takes access away.
func subjectsAdded(o, n client.Object) bool {
	before := map[string]bool{}
	for _, s := range subjectsOf(o) {
		before[subjectKey(s)] = true
	}
	for _, s := range subjectsOf(n) {
		if !before[subjectKey(s)] {
			return true
		}
	}
	return false
}
