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
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/hack/devcluster"
)

const (
	tokenNamespace = "kubescim-system"
	tokenSecret    = "scim-tokens"
	faultToken     = "fault-test-token-3f6c1e0a9b8d7c6e5f4a3b2c1d0e9f8a"
	teamNamespace  = "team-faults"
	groupName      = "Fault Developers"
	// outageWait covers a lost lease (renew deadline) on a loaded machine.
	outageWait = 30 * time.Second
)

// service routes as a Kubernetes Service does: round-robin over the replicas whose /readyz
// answered at the last probe, every 100ms. The test takes a replica out before killing it with
// SIGKILL, which no SCIM answer survives.
type service struct {
	mu       sync.Mutex
	replicas []*replica
	ready    map[*replica]bool
	out      map[*replica]bool
	next     int
	stop     chan struct{}
}

func newService(t *testing.T) *service {
	s := &service{ready: map[*replica]bool{}, out: map[*replica]bool{}, stop: make(chan struct{})}
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			s.mu.Lock()
			replicas := append([]*replica(nil), s.replicas...)
			s.mu.Unlock()
			for _, r := range replicas {
				ready := r.ready()
				s.mu.Lock()
				s.ready[r] = ready
				s.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { close(s.stop) })
	return s
}

func (s *service) add(r *replica) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replicas = append(s.replicas, r)
}

func (s *service) takeOut(r *replica) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out[r] = true
}

// pick returns the next routable replica, or nil when none is.
func (s *service) pick() *replica {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range s.replicas {
		r := s.replicas[s.next%len(s.replicas)]
		s.next++
		if s.ready[r] && !s.out[r] {
			return r
		}
	}
	return nil
}

// TestFaults runs two (at times three) replicas of the real binary against a control plane the
// test owns and breaks things as production does: kube-apiserver stopped and restarted (and a
// replica started meanwhile), etcd stopped and restarted (and a replica SIGTERMed with requests
// hanging on it), the leader SIGKILLed in the middle of a sync, the leader SIGTERMed. Every SCIM
// request must get a SCIM answer (503 with Retry-After during outages, never 500 or a dropped
// connection), nothing acknowledged may be lost and nothing refused applied, no process may
// exit because of an outage, another replica must take over the controllers, and access must
// follow every change made around a failover (SubjectAccessReview).
//
// Each IdP sequence (create a user, add it to the group, deactivate it) goes to one replica:
// a read of an id just created on another replica may miss that replica's cache.
func TestFaults(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tmp := t.TempDir()
	binary := buildKubescim(t, root, tmp)
	cluster, err := devcluster.Start(ctx, devcluster.Options{
		Dir: filepath.Join(tmp, "cluster"), CRDDirs: []string{filepath.Join(root, "config", "crd", "bases")}, ControllerManager: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	k8s := adminClient(t, cluster)
	setUpFaultFixtures(t, k8s)

	svc := newService(t)
	start := func(name string) *replica {
		r := startReplica(t, binary, name, cluster.KubeconfigPath)
		svc.add(r)
		return r
	}
	a, b := start("a"), start("b")
	for _, r := range []*replica{a, b} {
		waitFor(t, r.name+" ready", outageWait, r.ready)
	}
	p := newIDP(faultToken)
	canCreateDeployments := func(user string) func() (bool, error) {
		return func() (bool, error) { return canI(ctx, k8s, user, "create", "apps", "deployments", teamNamespace) }
	}
	expectAccess := func(what, user string, want bool) {
		t.Helper()
		waitFor(t, what, eventually, func() bool { got, err := canCreateDeployments(user)(); return err == nil && got == want })
	}

	// An IdP pushes the group and alice; access follows.
	group := id(mustSucceed(t, "creating the group", func() answer { return p.createGroup(a, groupName) }))
	alice := id(mustSucceed(t, "creating alice", func() answer { return p.createUser(a, "alice@example.com") }))
	mustSucceed(t, "adding alice", func() answer { return p.addMember(a, group, alice) })
	expectAccess("alice may create deployments", "alice@example.com", true)

	var c *replica
	t.Run("kube-apiserver stopped and restarted", func(t *testing.T) {
		first := leader(t, outageWait, a, b)
		tr := startTraffic(p, "api", 150*time.Millisecond, svc.pick)
		if err := cluster.StopAPIServer(); err != nil {
			t.Fatal(err)
		}
		apiDown := true
		t.Cleanup(func() {
			if apiDown { // the subtest failed half-way: later ones need the API server
				_ = cluster.StartAPIServer()
			}
		})
		// A replica that starts while the API server is away waits: alive, not ready, and its
		// SCIM port answers 503 (so a Service routes nothing to it, and a direct call is told to
		// retry).
		c = start("c")
		waitFor(t, "c's process up", outageWait, func() bool { return c.probe("/healthz") == http.StatusOK })
		waitFor(t, "c answers SCIM with 503 while starting", outageWait, func() bool {
			ans := p.findUser(c, "alice@example.com")
			return ans.status == http.StatusServiceUnavailable
		})
		if c.probe("/healthz") != http.StatusOK || c.probe("/readyz") == http.StatusOK {
			t.Errorf("c without an API server: /healthz %d, /readyz %d; want 200 and not ready", c.probe("/healthz"), c.probe("/readyz"))
		}
		waitFor(t, first.name+" loses the lease", outageWait, func() bool { return !first.leading() })
		if err := cluster.StartAPIServer(); err != nil {
			t.Fatal(err)
		}
		apiDown = false
		waitFor(t, "c ready once the API server is back", 2*outageWait, c.ready)
		leader(t, outageWait, a, b, c)
		tr.halt()
		expectAllRunning(t, a, b, c)
	})
	if c == nil {
		t.FailNow()
	}

	t.Run("etcd stopped and restarted, a replica SIGTERMed meanwhile", func(t *testing.T) {
		tr := startTraffic(p, "etcd", 150*time.Millisecond, svc.pick)
		if err := cluster.StopEtcd(); err != nil {
			t.Fatal(err)
		}
		etcdDown := true
		t.Cleanup(func() {
			if etcdDown {
				_ = cluster.StartEtcd()
			}
		})
		for _, r := range []*replica{a, b, c} {
			waitFor(t, r.name+" without the lease", outageWait, func() bool { return !r.leading() })
		}
		// Writes to b now hang until the SCIM server's API timeout, past b's shutdown deadline.
		hanging := make(chan answer, 3)
		for n := range 3 {
			go func() { hanging <- p.createUser(b, "hanging-"+string(rune('a'+n))+"@example.com") }()
		}
		time.Sleep(500 * time.Millisecond) // let them reach b's handler
		b.signal(t, syscall.SIGTERM)
		began := time.Now()
		for range 3 {
			if ans := <-hanging; ans.err != nil || ans.status != http.StatusServiceUnavailable || ans.retryAfter == "" {
				t.Errorf("a write in flight on b when it was SIGTERMed: %s, want 503 with Retry-After", ans)
			}
		}
		if err := b.waitExit(t, testShutdownTimeout+10*time.Second); err != nil {
			t.Errorf("b exited with %v after SIGTERM, want 0", err)
		}
		t.Logf("b drained and exited %s after SIGTERM (shutdown timeout %s)", time.Since(began).Round(10*time.Millisecond), testShutdownTimeout)
		if err := cluster.StartEtcd(); err != nil {
			t.Fatal(err)
		}
		etcdDown = false
		leader(t, 2*outageWait, a, c)
		tr.halt()
		expectAllRunning(t, a, c)
	})

	t.Run("leader SIGKILLed in the middle of a sync", func(t *testing.T) {
		dead := leader(t, outageWait, a, c)
		survivor := a
		if dead == a {
			survivor = c
		}
		svc.takeOut(dead)
		type member struct {
			name, id string
			active   bool
		}
		var (
			members []member
			killed  time.Time
		)
		for n := range 12 {
			name := "sync-" + string(rune('a'+n)) + "@example.com"
			uid := id(mustSucceed(t, "creating "+name, func() answer { return p.createUser(survivor, name) }))
			mustSucceed(t, "adding "+name, func() answer { return p.addMember(survivor, group, uid) })
			members = append(members, member{name, uid, true})
			if n == 5 {
				dead.signal(t, syscall.SIGKILL)
				killed = time.Now()
			}
		}
		// A revocation written while nobody runs the controllers.
		mustSucceed(t, "deactivating alice", func() answer { return p.setActive(survivor, alice, false) })
		for i := range members {
			if i%3 == 0 {
				mustSucceed(t, "deactivating "+members[i].name, func() answer { return p.setActive(survivor, members[i].id, false) })
				members[i].active = false
			}
		}
		expectAccess("alice's revocation lands after the failover", "alice@example.com", false)
		failover := time.Since(killed)
		if leader(t, outageWait, survivor) != survivor {
			t.Fatal("the survivor does not lead")
		}
		t.Logf("FAILOVER: leader SIGKILLed -> next change (a revocation) reconciled by the new leader in %s "+
			"(lease %s, renew deadline %s, retry period %s)", failover.Round(10*time.Millisecond), testLeaseDuration, testRenewDeadline, testRetryPeriod)
		for _, m := range members {
			expectAccess(m.name+" access follows the sync", m.name, m.active)
		}
		_ = dead.waitExit(t, 10*time.Second) // killed: its exit status says so
	})

	t.Run("leader SIGTERMed", func(t *testing.T) {
		d := start("d") // the replacement pod for the killed replica
		waitFor(t, "d ready", outageWait, d.ready)
		var others []*replica
		for _, r := range []*replica{a, c, d} {
			if r.running() {
				others = append(others, r)
			}
		}
		old := leader(t, outageWait, others...)
		bob := id(mustSucceed(t, "creating bob", func() answer { return p.createUser(d, "bob@example.com") }))
		mustSucceed(t, "adding bob", func() answer { return p.addMember(d, group, bob) })
		bobsReplica := d // bob's IdP sequence stays on one replica while it serves
		expectAccess("bob may create deployments", "bob@example.com", true)

		old.signal(t, syscall.SIGTERM)
		terminated := time.Now()
		var rest []*replica
		for _, r := range others {
			if r != old {
				rest = append(rest, r)
			}
		}
		next := leader(t, outageWait, rest...)
		handover := time.Since(terminated)
		if bobsReplica == old {
			bobsReplica = next
		}
		mustSucceed(t, "deactivating bob", func() answer { return p.setActive(bobsReplica, bob, false) })
		revoking := time.Now()
		expectAccess("bob's revocation lands after the failover", "bob@example.com", false)
		t.Logf("FAILOVER: leader SIGTERMed -> %s leads after %s (lease released); a revocation then landed in %s",
			next.name, handover.Round(10*time.Millisecond), time.Since(revoking).Round(time.Millisecond))
		if err := old.waitExit(t, testShutdownTimeout+10*time.Second); err != nil {
			t.Errorf("%s exited with %v after SIGTERM, want 0", old.name, err)
		}
		expectAllRunning(t, rest...)
	})

	checkCreations(t, k8s, p, svc.pick)
	p.checkAnswers(t)
	for _, r := range []*replica{a, b, c} {
		if r.logContains("leader election lost") {
			t.Errorf("%s logged controller-runtime's 'leader election lost'", r.name)
		}
	}
}

// checkCreations compares the IdP's answers with what is stored: every acknowledged user exists.
// A creation refused while kube-apiserver was down (prefix api-) was refused for sure: it must
// not be stored, and the IdP's retry creates it. A creation that timed out against a stopped
// etcd (a 503 once the SCIM server's API timeout or its shutdown deadline passed) has an unknown
// outcome, as every timed-out write has: the IdP's retry must converge (201, or 409 when the
// write did land), and the test reports how often it landed.
func checkCreations(t *testing.T, k8s client.Client, p *idp, route func() *replica) {
	t.Helper()
	acked, refused := p.acknowledgedAndRefused()
	stored := func(name string) bool {
		err := k8s.Get(context.Background(), client.ObjectKey{Name: scimv1.ObjectNameFor(name)}, &scimv1.ScimUser{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatalf("reading %s: %v", name, err)
		}
		return err == nil
	}
	for _, name := range acked {
		if !stored(name) {
			t.Errorf("%s was acknowledged (%s) but is not stored", name, p.created[name])
		}
	}
	landed := 0
	for _, name := range refused {
		refusal := p.created[name]
		isStored := stored(name)
		switch {
		case isStored && strings.HasPrefix(name, "api-"):
			t.Errorf("%s was refused while kube-apiserver was down (%s) but is stored", name, refusal)
		case isStored:
			landed++
			t.Logf("%s timed out (%s) and landed anyway", name, refusal)
		}
		want := http.StatusCreated
		if isStored {
			want = http.StatusConflict
		}
		retry := mustAnswer(t, "retrying "+name, func() answer {
			if r := route(); r != nil {
				return p.createUser(r, name)
			}
			return answer{status: http.StatusServiceUnavailable, raw: "no replica ready"}
		})
		if retry.status != want {
			t.Errorf("the IdP's retry of %s (first answered %s): %s, want %d", name, refusal, retry, want)
		}
	}
	t.Logf("%d user creations acknowledged, %d refused and retried; %d of the refused ones had timed out and landed anyway",
		len(acked), len(refused), landed)
}

// mustAnswer retries until the answer is not a 503.
func mustAnswer(t *testing.T, what string, try func() answer) answer {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for {
		a := try()
		if a.err == nil && a.status != http.StatusServiceUnavailable {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still unavailable after %s: %s", what, eventually, a)
		}
		time.Sleep(poll)
	}
}

func expectAllRunning(t *testing.T, replicas ...*replica) {
	t.Helper()
	for _, r := range replicas {
		if !r.running() {
			t.Errorf("%s exited (%v); no outage may end a replica", r.name, r.err)
		}
	}
}

func waitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(poll)
	}
}

func adminClient(t *testing.T, cluster *devcluster.Cluster) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := scimv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(cluster.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return k8s
}

// setUpFaultFixtures creates the token Secret, the team namespace and a binding of the group
// to edit there.
func setUpFaultFixtures(t *testing.T, k8s client.Client) {
	t.Helper()
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tokenNamespace}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tokenNamespace, Name: tokenSecret},
			Data: map[string][]byte{"okta": []byte(faultToken)}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: teamNamespace}},
		&scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: "fault-developers"},
			Spec: scimv1.ScimGroupBindingSpec{Group: groupName, RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "edit"},
				Namespaces: []string{teamNamespace}}},
	} {
		if err := k8s.Create(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
	}
}
