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
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Scale of BenchmarkRevocation; KUBESCIM_BENCH_USERS, _GROUPS and _NAMESPACES override it (e.g.
// 10000/1000/200 for the target).
var (
	benchUsers      = envInt("KUBESCIM_BENCH_USERS", 2000)
	benchGroups     = envInt("KUBESCIM_BENCH_GROUPS", 100)
	benchNamespaces = envInt("KUBESCIM_BENCH_NAMESPACES", 20)
	// benchNamespacesPerBinding is how many of the namespaces each group's binding covers
	// (default all of them, the worst case for revocation: one write per namespace).
	benchNamespacesPerBinding = min(envInt("KUBESCIM_BENCH_NAMESPACES_PER_BINDING", benchNamespaces), benchNamespaces)
)

// benchBindingIndex indexes the benchmark's RoleBinding cache by binding name.
const benchBindingIndex = "bench.binding"

// benchBindingNamespaces returns the namespaces the binding of group g covers.
func benchBindingNamespaces(g int) []string {
	names := make([]string, benchNamespacesPerBinding)
	for j := range names {
		names[j] = fmt.Sprintf("bench-%03d", (g*benchNamespacesPerBinding+j)%benchNamespaces)
	}
	return names
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// revocationFixture is a populated cluster: every user is in two groups, every group has a
// binding over all bench namespaces (100 bindings x 20 namespaces = 2,000 RoleBindings).
type revocationFixture struct {
	users   []*scimv1.ScimUser
	groups  []string // displayNames
	rbs     cache.Cache
	changed chan struct{} // signalled on every RoleBinding event
}

var (
	benchOnce    sync.Once
	benchFixture *revocationFixture
	benchErr     error
)

func benchGroupsOf(i int) []int { return []int{i % benchGroups, (i*7 + 3) % benchGroups} }

func setupRevocationFixture(ctx context.Context) (*revocationFixture, error) {
	f := &revocationFixture{}
	for n := range benchNamespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%03d", n), Labels: map[string]string{"bench": "revocation"}}}
		if err := k8s.Create(ctx, ns); err != nil {
			return nil, err
		}
	}
	groupNames := make([]string, benchGroups)
	for g := range benchGroups {
		group := &scimv1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-group-%03d", g)},
			Spec: scimv1.ScimGroupSpec{DisplayName: fmt.Sprintf("bench group %03d", g)}}
		if err := k8s.Create(ctx, group); err != nil {
			return nil, err
		}
		groupNames[g] = group.Name
		f.groups = append(f.groups, group.Spec.DisplayName)
		binding := &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-binding-%03d", g)},
			Spec: scimv1.ScimGroupBindingSpec{Group: group.Spec.DisplayName, RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: readerRole},
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"bench": "revocation"}}}}
		if benchNamespacesPerBinding < benchNamespaces {
			binding.Spec.NamespaceSelector = nil
			binding.Spec.Namespaces = benchBindingNamespaces(g)
		}
		if err := k8s.Create(ctx, binding); err != nil {
			return nil, err
		}
	}
	f.users = make([]*scimv1.ScimUser, benchUsers)
	eg, egctx := errgroup.WithContext(ctx)
	eg.SetLimit(32)
	for i := range benchUsers {
		eg.Go(func() error {
			var memberOf []string
			for _, g := range benchGroupsOf(i) {
				memberOf = append(memberOf, groupNames[g])
			}
			u := &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-user-%05d", i)},
				Spec: scimv1.ScimUserSpec{UserName: fmt.Sprintf("bench-user-%05d", i), Active: ptr.To(true), MemberOf: memberOf}}
			f.users[i] = u
			return k8s.Create(egctx, u)
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}

	// Watch RoleBindings the way the API server's authorizer sees them.
	c, err := cache.New(testCfg, cache.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	// An index by binding keeps the benchmark's own checks cheap: a label selector would scan
	// every RoleBinding on each event and steal the CPU the system under test needs.
	if err := c.IndexField(ctx, &rbacv1.RoleBinding{}, benchBindingIndex, func(o client.Object) []string {
		return []string{o.GetLabels()[scimv1.BindingLabel]}
	}); err != nil {
		return nil, err
	}
	informer, err := c.GetInformer(ctx, &rbacv1.RoleBinding{})
	if err != nil {
		return nil, err
	}
	f.changed = make(chan struct{}, 1)
	notify := func() {
		select {
		case f.changed <- struct{}{}:
		default:
		}
	}
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}); err != nil {
		return nil, err
	}
	go func() { _ = c.Start(ctx) }()
	c.WaitForCacheSync(ctx)
	f.rbs = c

	deadline := time.Now().Add(15 * time.Minute)
	for {
		var n int
		for i := range benchUsers {
			if ok, err := f.bound(ctx, i, true); err != nil {
				return nil, err
			} else if ok {
				n++
			}
		}
		if n == benchUsers {
			return f, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d users fully bound", n, benchUsers)
		}
		time.Sleep(time.Second)
	}
}

// bound reports whether user i's subject is in all (want=true) or none (want=false) of the
// RoleBindings of its groups' bindings, across every bench namespace.
func (f *revocationFixture) bound(ctx context.Context, i int, want bool) (bool, error) {
	subject := "oidc:" + f.users[i].Spec.UserName
	for _, g := range benchGroupsOf(i) {
		var list rbacv1.RoleBindingList
		if err := f.rbs.List(ctx, &list, client.MatchingFields{benchBindingIndex: fmt.Sprintf("bench-binding-%03d", g)}, client.UnsafeDisableDeepCopy); err != nil {
			return false, err
		}
		found := map[string]bool{}
		for _, rb := range list.Items {
			for _, s := range rb.Subjects {
				if s.Name == subject {
					found[rb.Namespace] = true
				}
			}
		}
		if want && len(found) != benchNamespacesPerBinding || !want && len(found) != 0 {
			return false, nil
		}
	}
	return true, nil
}

// waitBound re-checks on every RoleBinding event (not by polling, which would steal CPU from
// the system being measured).
func (f *revocationFixture) waitBound(ctx context.Context, i int, want bool) error {
	return f.waitBoundWithin(ctx, i, want, 30*time.Second)
}

func (f *revocationFixture) waitBoundWithin(ctx context.Context, i int, want bool, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		ok, err := f.bound(ctx, i, want)
		if err != nil || ok {
			return err
		}
		select {
		case <-f.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			return fmt.Errorf("user %d: bound=%t not reached", i, want)
		}
	}
}

func (f *revocationFixture) setActive(ctx context.Context, i int, active bool) error {
	u := f.users[i]
	for {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(u), u); err != nil {
			return err
		}
		u.Spec.Active = ptr.To(active)
		if u.Annotations == nil {
			u.Annotations = map[string]string{}
		}
		u.Annotations[scimv1.ChangedAtAnnotation] = time.Now().UTC().Format(time.RFC3339Nano)
		err := k8s.Update(ctx, u)
		if client.IgnoreAlreadyExists(err) == nil {
			return err
		}
		if !isConflict(err) {
			return err
		}
	}
}

// BenchmarkRevocation measures the time from a ScimUser's active=false write to the user's
// removal from every RoleBinding that granted it access (2 bindings x 20 namespaces), with
// 2,000 users, 100 groups, 100 bindings and 20 namespaces (2,000 RoleBindings) in place.
// It reports p50 and p99 in milliseconds; run it with e.g. -benchtime 50x for stable figures.
func BenchmarkRevocation(b *testing.B) {
	ctx := context.Background()
	benchOnce.Do(func() { benchFixture, benchErr = setupRevocationFixture(ctx) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	f := benchFixture
	var samples []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		i := (n * 37) % benchUsers
		start := time.Now()
		if err := f.setActive(ctx, i, false); err != nil {
			b.Fatal(err)
		}
		if err := f.waitBound(ctx, i, false); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
		b.StopTimer()
		if err := f.setActive(ctx, i, true); err != nil {
			b.Fatal(err)
		}
		if err := f.waitBound(ctx, i, true); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportLatency(b, samples)
}

// reportLatency reports the p50 and p99 of samples in milliseconds.
func reportLatency(b *testing.B, samples []time.Duration) {
	slices.Sort(samples)
	pct := func(p float64) float64 {
		return float64(samples[int(p*float64(len(samples)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
