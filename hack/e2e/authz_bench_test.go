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
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
)

// authzPollers is how many SubjectAccessReviews the benchmark keeps in flight while it waits.
const authzPollers = 8

// BenchmarkAuthzRevocation measures deactivation -> denied through the API server's authorizer
// for a user in two groups bound over 20 and 200 namespaces: with the authorization webhook
// before RBAC, and without it (RBAC alone, so every RoleBinding must be rewritten first). One
// op starts polling SubjectAccessReviews over every namespace, round robin with authzPollers in
// flight, writes active=false (one merge patch) and polls until each namespace has answered
// "not allowed"; then it reactivates the user and waits for access everywhere again (not
// measured) and for the controllers to settle: the user's and the bindings' status written for
// the reactivation. A deactivation usually arrives on a quiet cluster; without the wait, an op
// could start while the controllers still write the reactivation's status. The API server is
// never idle all the same: the polling keeps authzPollers reviews in flight, which keeps its
// 2 cores busy here. Reported, from the start of the deactivating write:
//
//   - p50_ms, p99_ms: when the last review answered "allowed", in any namespace, was sent (the
//     API server decided after that). Access still stood then and never after: revocation
//     everywhere took at least this long, and at most this plus the time between two reviews
//     when all namespaces flip at once (the webhook), or plus one polling round when they flip
//     one by one (RBAC rewriting; so this figure favours RBAC).
//
//   - alldenied_p99_ms: when every namespace had answered "not allowed" (an upper bound).
//
//   - round_ms: one polling round over all namespaces while nothing changes.
//
//   - The breakdown of the lag: write_p50_ms, write_p99_ms, when the deactivating patch's
//     response arrived; seen_p50_ms, seen_p99_ms, when the manager's cache (the one the webhook
//     decides from) delivered the update to an event handler; review_p50_ms, the round trip of
//     the reviews sent during the ops. With the webhook the deny follows seen_ms closely, so the
//     revocation lag is the write's and the watch's, and both grow with the ScimUser's size
//     (which is why status.access has one entry per binding, not one per namespace).
//
//     go test ./hack/e2e -run '^$' -bench AuthzRevocation -benchtime 10x
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
	seen := &deactivationSeen{}
	e.startManager(b, func(mgr manager.Manager) error {
		// One process, one cache, as the controllers component runs them: the webhook sees a
		// deactivation no later than the controllers start rewriting RoleBindings.
		if err := e.addWebhookOrControllers(mgr, webhook); err != nil {
			return err
		}
		return seen.register(mgr)
	})
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

	bindings := []string{"bench-a", "bench-b"}
	e.waitSettled(b, user.Name, bindings, namespaces)

	var lastAllowed, allDenied, written, seenAt, reviews []time.Duration
	b.ResetTimer()
	for range b.N {
		// The polling runs from before the write, so that what the write itself takes counts.
		start := time.Now()
		seen.reset(start)
		polled := make(chan revocation, 1)
		go func() { polled <- e.pollRevocation(ctx, subject, names, start, 3*time.Minute) }()
		deactivate := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"active":false}}`))
		if err := e.k8s.Patch(ctx, user.DeepCopy(), deactivate); err != nil {
			b.Fatal(err)
		}
		written = append(written, time.Since(start))
		r := <-polled
		if r.err != nil {
			b.Fatal(r.err)
		}
		lastAllowed, allDenied = append(lastAllowed, r.lastAllowed), append(allDenied, r.allDenied)
		at, err := seen.at(ctx)
		if err != nil {
			b.Fatal(err)
		}
		seenAt, reviews = append(seenAt, at), append(reviews, r.reviews...)
		if err := setActive(ctx, e.k8s, user, true); err != nil {
			b.Fatal(err)
		}
		if _, err := e.pollUntil(ctx, subject, names, true, 3*time.Minute); err != nil {
			b.Fatal(err)
		}
		e.waitSettled(b, user.Name, bindings, namespaces)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(percentile(lastAllowed, 50)), "p50_ms")
	b.ReportMetric(ms(percentile(lastAllowed, 99)), "p99_ms")
	b.ReportMetric(ms(percentile(allDenied, 99)), "alldenied_p99_ms")
	b.ReportMetric(ms(round), "round_ms")
	b.ReportMetric(ms(percentile(written, 50)), "write_p50_ms")
	b.ReportMetric(ms(percentile(written, 99)), "write_p99_ms")
	b.ReportMetric(ms(percentile(seenAt, 50)), "seen_p50_ms")
	b.ReportMetric(ms(percentile(seenAt, 99)), "seen_p99_ms")
	b.ReportMetric(ms(percentile(reviews, 50)), "review_p50_ms")
	if webhook {
		// Reviews the API server answered without the webhook (error or timeout: RBAC decided).
		failOpen, err := apiServerCounter(ctx, e.cluster.Config, "apiserver_authorization_webhook_evaluations_fail_open_total")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(failOpen, "failopen")
	}
}

// apiServerCounter sums the samples of a counter in the API server's /metrics.
func apiServerCounter(ctx context.Context, cfg *rest.Config, name string) (float64, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the API server's metrics: %w", err)
	}
	var sum float64
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, "{") || strings.HasPrefix(rest, " ")) {
			var v float64
			if _, err := fmt.Sscan(rest[strings.LastIndex(rest, " ")+1:], &v); err == nil {
				sum += v
			}
		}
	}
	return sum, nil
}

// percentile returns the p-th percentile (nearest rank) of samples.
func percentile(samples []time.Duration, p int) time.Duration {
	s := slices.Clone(samples)
	slices.Sort(s)
	return s[max(0, (len(s)*p+99)/100-1)]
}

// revocation is what pollRevocation observed, measured from the op's start.
type revocation struct {
	// lastAllowed is when the last review answered "allowed" was sent (0 if none was).
	lastAllowed time.Duration
	// allDenied is when the last namespace's "not allowed" arrived.
	allDenied time.Duration
	// reviews are the round trips of every review sent.
	reviews []time.Duration
	err     error
}

// pollRevocation reviews user over namespaces, round robin, authzPollers at a time, dropping
// each namespace once it answers "not allowed", until none is left.
func (e *authzEnv) pollRevocation(ctx context.Context, user string, namespaces []string, start time.Time, timeout time.Duration) revocation {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var r revocation
	var mu sync.Mutex
	pending := slices.Clone(namespaces)
	next := 0
	g, gctx := errgroup.WithContext(ctx)
	for range authzPollers {
		g.Go(func() error {
			for {
				mu.Lock()
				if len(pending) == 0 {
					mu.Unlock()
					return nil
				}
				next %= len(pending)
				ns := pending[next]
				next++
				mu.Unlock()
				sent := time.Since(start)
				s, err := e.review(gctx, user, ns)
				if err != nil {
					return err
				}
				at := time.Since(start)
				mu.Lock()
				r.reviews = append(r.reviews, at-sent)
				if s.Allowed {
					// The API server decided after sending, so access still stood then.
					r.lastAllowed = max(r.lastAllowed, sent)
				} else if i := slices.Index(pending, ns); i >= 0 {
					pending = slices.Delete(pending, i, i+1)
					r.allDenied = max(r.allDenied, at)
				}
				mu.Unlock()
			}
		})
	}
	if err := g.Wait(); err != nil {
		return revocation{err: fmt.Errorf("waiting for revocation: %w", err)}
	}
	return r
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
