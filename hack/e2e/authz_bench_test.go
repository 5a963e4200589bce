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

package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
)

// authzPollers is how many SubjectAccessReviews the benchmark keeps in flight while it waits.
const authzPollers = 8

// BenchmarkAuthzRevocation measures deactivation -> denied through the API server's authorizer
// for a user in two groups bound over 20 and 200 namespaces: with the authorization webhook
// before RBAC, and without it (RBAC alone, so every RoleBinding must be rewritten first). One
// op deactivates the user and polls SubjectAccessReviews in every namespace (authzPollers in
// flight) until none allows; then it reactivates the user and waits for access everywhere
// again (not measured). Reported: p50_ms and p99_ms of deactivation -> denied everywhere, and
// round_ms, one polling round over all namespaces while nothing changes (the resolution).
//
//	go test ./hack/e2e -run '^$' -bench AuthzRevocation -benchtime 10x
func BenchmarkAuthzRevocation(b *testing.B) {
	for _, namespaces := range []int{20, 200} {
		for _, webhook := range []bool{false, true} {
			b.Run(fmt.Sprintf("namespaces=%d/webhook=%v", namespaces, webhook), func(b *testing.B) {
				benchAuthzRevocation(b, namespaces, webhook)
			})
		}
	}
}

func benchAuthzRevocation(b *testing.B, namespaces int, webhook bool) {
	ctx := context.Background()
	e := startAuthzEnv(b, webhook, controllers.Options{SubjectPrefix: "oidc:"})
	if webhook {
		e.startWebhook(b)
	}
	e.startControllers(b)
	// A client without client-side rate limiting, so the polling measures the API server.
	cfg := rest.CopyConfig(e.cluster.Config)
	cfg.QPS = -1
	poller, err := client.New(cfg, client.Options{Scheme: authzScheme(b)})
	if err != nil {
		b.Fatal(err)
	}
	e.k8s = poller

	names := make([]string, namespaces)
	var objs []client.Object
	for i := range names {
		names[i] = fmt.Sprintf("authz-bench-%03d", i)
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names[i], Labels: map[string]string{"bench": "authz"}}})
	}
	user := &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: "bench-user"},
		Spec: scimv1.ScimUserSpec{UserName: "bench@example.com", Active: ptr.To(true)}}
	for _, g := range []string{"bench-a", "bench-b"} {
		user.Spec.MemberOf = append(user.Spec.MemberOf, g)
		objs = append(objs,
			&scimv1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: g}, Spec: scimv1.ScimGroupSpec{DisplayName: g}},
			&scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: g}, Spec: scimv1.ScimGroupBindingSpec{
				Group: g, RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: authzRole},
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"bench": "authz"}}}})
	}
	objs = append(objs, user)
	for _, o := range objs {
		if err := e.k8s.Create(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	const subject = "oidc:bench@example.com"
	if _, err := e.pollUntil(ctx, subject, names, true, 3*time.Minute); err != nil {
		b.Fatal(err)
	}
	round, err := e.pollUntil(ctx, subject, names, true, time.Minute)
	if err != nil {
		b.Fatal(err)
	}

	var samples []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := setActive(ctx, e.k8s, user, false); err != nil {
			b.Fatal(err)
		}
		if _, err := e.pollUntil(ctx, subject, names, false, 3*time.Minute); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
		if err := setActive(ctx, e.k8s, user, true); err != nil {
			b.Fatal(err)
		}
		if _, err := e.pollUntil(ctx, subject, names, true, 3*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	slices.Sort(samples)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(samples[(len(samples)-1)/2]), "p50_ms")
	b.ReportMetric(ms(samples[(len(samples)*99-1)/100]), "p99_ms")
	b.ReportMetric(ms(round), "round_ms")
}

// pollUntil reviews user in every namespace, authzPollers at a time, until each answers
// allowed == want, and returns how long that took.
func (e *authzEnv) pollUntil(ctx context.Context, user string, namespaces []string, want bool, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var mu sync.Mutex
	next := 0
	g, gctx := errgroup.WithContext(ctx)
	for range authzPollers {
		g.Go(func() error {
			for {
				mu.Lock()
				if next == len(namespaces) {
					mu.Unlock()
					return nil
				}
				ns := namespaces[next]
				next++
				mu.Unlock()
				for {
					s, err := e.review(gctx, user, ns)
					if err != nil {
						return err
					}
					if s.Allowed == want {
						break
					}
					if gctx.Err() != nil {
						return errors.New("timed out waiting for " + ns)
					}
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return 0, fmt.Errorf("waiting for allowed=%v: %w", want, err)
	}
	return time.Since(start), nil
}
