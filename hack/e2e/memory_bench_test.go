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
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/hack/devcluster"
)

// Scale of BenchmarkComponentMemory: KUBESCIM_BENCH_USERS users with realistic attributes
// (name, two emails, a phone number, title, the enterprise extension), each in 3-5 of
// users/10 groups (at least 100); the first 100 groups are bound to edit in one of 20
// namespaces each (100 RoleBindings).
var memoryBenchUsers = benchEnvInt("KUBESCIM_BENCH_USERS", 2000)

const memoryBenchBoundGroups, memoryBenchNamespaces = 100, 20

func memoryBenchGroups() int { return max(memoryBenchBoundGroups, memoryBenchUsers/10) }

// memoryBenchGroupsOf returns the groups user i is in: 3-5 distinct ones.
func memoryBenchGroupsOf(i int) []int {
	groups := memoryBenchGroups()
	out := make([]int, 0, 5)
	for k := range 3 + i%3 {
		g := (i*7 + k*(groups/5+1)) % groups
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkComponentMemory sizes the two components: it runs the SCIM front end and the
// controllers (the real binary, apart) first against an empty dev cluster, then against the
// populated one once the controllers have granted every user, and reports for each component
// its resident memory (scim-rss-MiB, controller-rss-MiB), its growth over the empty cluster
// per user (scim-B/user, controller-B/user) and against the JSON size of the objects it
// caches, as the API server serves them (scim-rss/json, controller-rss/json), and the JSON
// size itself (scim-json-MiB, controller-json-MiB), and the Go heap in use (scim-heap-MiB,
// controller-heap-MiB): without a memory limit the runtime lets RSS run to about twice the live
// heap before it collects; in the chart GOMEMLIMIT holds it under the container's limit.
func BenchmarkComponentMemory(b *testing.B) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	tmp := b.TempDir()
	binary := buildKubescim(b, root, tmp)
	cluster, err := devcluster.Start(ctx, devcluster.Options{Dir: filepath.Join(tmp, "cluster"),
		CRDDirs: []string{filepath.Join(root, "config", "crd", "bases")}, ControllerManager: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cluster.Stop() })
	admin, err := client.New(cluster.Config, client.Options{Scheme: adminScheme(b)})
	if err != nil {
		b.Fatal(err)
	}
	var scimHeap, ctlHeap float64 // of the populated cluster's last run
	measure := func(until func() bool) (scimRSS, ctlRSS float64) {
		scim := benchProcess(b, binary, "scim", cluster.KubeconfigPath, "--components=scim")
		ctl := benchProcess(b, binary, "controller", cluster.KubeconfigPath, "--components=controllers")
		waitFor(b, "both components ready", 10*time.Minute, func() bool { return scim.ready() && ctl.ready() && until() })
		scimRSS, ctlRSS = metricValue(scim, "process_resident_memory_bytes"), metricValue(ctl, "process_resident_memory_bytes")
		scimHeap, ctlHeap = metricValue(scim, "go_memstats_heap_inuse_bytes"), metricValue(ctl, "go_memstats_heap_inuse_bytes")
		scim.terminate(30 * time.Second)
		ctl.terminate(30 * time.Second)
		return scimRSS, ctlRSS
	}
	scimEmpty, ctlEmpty := measure(func() bool { return true })

	populate(b, admin)
	wantSubjects := 0
	for i := range memoryBenchUsers {
		for _, g := range memoryBenchGroupsOf(i) {
			if g < memoryBenchBoundGroups {
				wantSubjects++
			}
		}
	}
	identities := jsonBytes(b, admin, &scimv1.ScimUserList{}, &scimv1.ScimGroupList{})
	scimJSON := identities
	ctlJSON := identities + jsonBytes(b, admin, &scimv1.ScimGroupBindingList{}, &rbacv1.RoleBindingList{}, &corev1.NamespaceList{})

	var scimRSS, ctlRSS float64
	for b.Loop() {
		s, c := measure(func() bool { return boundSubjects(b, admin) == wantSubjects })
		scimRSS += s
		ctlRSS += c
	}
	scimRSS, ctlRSS = scimRSS/float64(b.N), ctlRSS/float64(b.N)
	const mib = 1 << 20
	b.ReportMetric(scimRSS/mib, "scim-rss-MiB")
	b.ReportMetric(ctlRSS/mib, "controller-rss-MiB")
	b.ReportMetric((scimRSS-scimEmpty)/float64(memoryBenchUsers), "scim-B/user")
	b.ReportMetric((ctlRSS-ctlEmpty)/float64(memoryBenchUsers), "controller-B/user")
	b.ReportMetric((scimRSS-scimEmpty)/scimJSON, "scim-rss/json")
	b.ReportMetric((ctlRSS-ctlEmpty)/ctlJSON, "controller-rss/json")
	b.ReportMetric(scimHeap/mib, "scim-heap-MiB")
	b.ReportMetric(ctlHeap/mib, "controller-heap-MiB")
	b.ReportMetric(scimJSON/mib, "scim-json-MiB")
	b.ReportMetric(ctlJSON/mib, "controller-json-MiB")
}

// jsonBytes is the JSON size of every object of the lists' kinds, as the API server serves them.
func jsonBytes(b *testing.B, admin client.Client, lists ...client.ObjectList) float64 {
	var n int
	for _, list := range lists {
		if err := admin.List(b.Context(), list); err != nil {
			b.Fatal(err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range items {
			raw, err := json.Marshal(o)
			if err != nil {
				b.Fatal(err)
			}
			n += len(raw)
		}
	}
	return float64(n)
}

// benchUser is a user as an enterprise IdP pushes it.
func benchUser(i int, memberOf []string) *scimv1.ScimUser {
	userName := fmt.Sprintf("mem-%06d@example.com", i)
	return &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: scimv1.ObjectNameFor(userName)},
		Spec: scimv1.ScimUserSpec{UserName: userName, ExternalID: fmt.Sprintf("00u%017d", i), Active: ptr.To(true),
			DisplayName: fmt.Sprintf("Member %06d", i), Title: "Software Engineer", UserType: "Employee", Locale: "en-US",
			Name: &scimv1.Name{GivenName: "Member", FamilyName: fmt.Sprintf("Number %06d", i), Formatted: fmt.Sprintf("Member Number %06d", i)},
			Emails: []scimv1.MultiValuedAttribute{{Value: userName, Type: "work", Primary: true},
				{Value: fmt.Sprintf("member.%06d@home.example.org", i), Type: "home"}},
			PhoneNumbers: []scimv1.MultiValuedAttribute{{Value: fmt.Sprintf("+1 555 %07d", i), Type: "work"}},
			Enterprise: &scimv1.EnterpriseUser{EmployeeNumber: fmt.Sprint(100000 + i), CostCenter: fmt.Sprintf("CC-%03d", i%500),
				Organization: "Example Corp", Department: fmt.Sprintf("Department %d", i%40),
				Manager: &scimv1.Manager{Value: fmt.Sprintf("00u%017d", i/10)}},
			MemberOf: memberOf}}
}

// populate creates the namespaces, groups, bindings and users of the benchmark.
func populate(b *testing.B, admin client.Client) {
	ctx := b.Context()
	for i := range memoryBenchNamespaces {
		if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("mem-%d", i)}}); err != nil {
			b.Fatal(err)
		}
	}
	work := make(chan func() error)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for create := range work {
				if err := create(); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for g := range memoryBenchGroups() {
		name := fmt.Sprintf("mem-group-%d", g)
		work <- func() error {
			if err := admin.Create(ctx, &scimv1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: scimv1.ScimGroupSpec{DisplayName: name, ExternalID: fmt.Sprintf("00g%017d", g)}}); err != nil {
				return err
			}
			if g >= memoryBenchBoundGroups {
				return nil
			}
			return admin.Create(ctx, &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: scimv1.ScimGroupBindingSpec{Group: name, RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "edit"},
					Namespaces: []string{fmt.Sprintf("mem-%d", g%memoryBenchNamespaces)}}})
		}
	}
	for i := range memoryBenchUsers {
		work <- func() error {
			var memberOf []string
			for _, g := range memoryBenchGroupsOf(i) {
				memberOf = append(memberOf, fmt.Sprintf("mem-group-%d", g))
			}
			return admin.Create(ctx, benchUser(i, memberOf))
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// boundSubjects counts the subjects of every ready binding's RoleBindings.
func boundSubjects(b *testing.B, admin client.Client) int {
	var bindings scimv1.ScimGroupBindingList
	if err := admin.List(b.Context(), &bindings); err != nil {
		b.Fatal(err)
	}
	for _, binding := range bindings.Items {
		if !meta.IsStatusConditionTrue(binding.Status.Conditions, scimv1.ReadyCondition) {
			return 0
		}
	}
	var rbs rbacv1.RoleBindingList
	if err := admin.List(b.Context(), &rbs, client.MatchingLabels{scimv1.ManagedByLabel: scimv1.ManagedByValue}); err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, rb := range rbs.Items {
		n += len(rb.Subjects)
	}
	return n
}

// benchToken is the SCIM bearer token of the processes benchProcess starts.
const benchToken = "memory-bench-token-0123456789abcdef0123"

// benchProcess runs one component with the cluster's admin kubeconfig: the benchmark measures
// memory, not permissions.
func benchProcess(b *testing.B, binary, name, kubeconfig string, args ...string) *replica {
	dir := b.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(benchToken+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	scim, probe, metrics := freeAddr(b), freeAddr(b), freeAddr(b)
	r := &replica{name: name, scimURL: "http://" + scim + "/scim/v2", probeURL: "http://" + probe,
		metricURL: "http://" + metrics + "/metrics", logPath: filepath.Join(dir, name+".log"), exited: make(chan struct{})}
	startProcess(b, r, binary, append([]string{"--kubeconfig=" + kubeconfig, "--scim-bind-address=" + scim,
		"--health-probe-bind-address=" + probe, "--metrics-bind-address=" + metrics, "--scim-token-file=" + tokenFile,
		"--shutdown-delay=0s"}, args...), os.Environ())
	return r
}

// metricValue reads one unlabelled metric of r.
func metricValue(r *replica, name string) float64 {
	resp, err := http.Get(r.metricURL)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}
