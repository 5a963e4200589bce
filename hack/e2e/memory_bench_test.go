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
	"fmt"
	"net/http"
	"os"
	"path/filepath"
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

// Scale of BenchmarkComponentMemory: KUBESCIM_BENCH_USERS users, each in two of 100 groups,
// each group bound to edit in one of 20 namespaces (100 RoleBindings).
var memoryBenchUsers = benchEnvInt("KUBESCIM_BENCH_USERS", 2000)

const memoryBenchGroups, memoryBenchNamespaces = 100, 20

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkComponentMemory sizes the two components: it runs the SCIM front end and the
// controllers (the real binary, apart) against a populated dev cluster and reports each one's
// resident memory and Go heap in use once the controllers have granted every user, as
// scim-rss-MiB, scim-heap-MiB, controller-rss-MiB and controller-heap-MiB.
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
	populate(b, admin)
	wantSubjects := 2 * memoryBenchUsers

	var sums [4]float64
	for b.Loop() {
		scim := benchProcess(b, binary, "scim", cluster.KubeconfigPath, "--components=scim")
		ctl := benchProcess(b, binary, "controller", cluster.KubeconfigPath, "--components=controllers")
		waitFor(b, "every user granted", 10*time.Minute, func() bool {
			return scim.ready() && ctl.ready() && boundSubjects(b, admin) == wantSubjects
		})
		for i, v := range []float64{metricValue(scim, "process_resident_memory_bytes"), metricValue(scim, "go_memstats_heap_inuse_bytes"),
			metricValue(ctl, "process_resident_memory_bytes"), metricValue(ctl, "go_memstats_heap_inuse_bytes")} {
			sums[i] += v / (1 << 20)
		}
		scim.terminate(30 * time.Second)
		ctl.terminate(30 * time.Second)
	}
	for i, unit := range []string{"scim-rss-MiB", "scim-heap-MiB", "controller-rss-MiB", "controller-heap-MiB"} {
		b.ReportMetric(sums[i]/float64(b.N), unit)
	}
}

// populate creates the namespaces, groups, bindings and users of the benchmark.
func populate(b *testing.B, admin client.Client) {
	ctx := b.Context()
	for i := range memoryBenchNamespaces {
		if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("mem-%d", i)}}); err != nil {
			b.Fatal(err)
		}
	}
	for g := range memoryBenchGroups {
		name := fmt.Sprintf("mem-group-%d", g)
		if err := admin.Create(ctx, &scimv1.ScimGroup{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: scimv1.ScimGroupSpec{DisplayName: name}}); err != nil {
			b.Fatal(err)
		}
		if err := admin.Create(ctx, &scimv1.ScimGroupBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: scimv1.ScimGroupBindingSpec{Group: name, RoleRef: scimv1.RoleRef{Kind: "ClusterRole", Name: "edit"},
				Namespaces: []string{fmt.Sprintf("mem-%d", g%memoryBenchNamespaces)}}}); err != nil {
			b.Fatal(err)
		}
	}
	users := make(chan int)
	errs := make(chan error, memoryBenchUsers)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range users {
				first := i % memoryBenchGroups
				second := (first + 1 + (i/memoryBenchGroups)%(memoryBenchGroups-1)) % memoryBenchGroups
				userName := fmt.Sprintf("mem-%06d@example.com", i)
				errs <- admin.Create(ctx, &scimv1.ScimUser{ObjectMeta: metav1.ObjectMeta{Name: scimv1.ObjectNameFor(userName)},
					Spec: scimv1.ScimUserSpec{UserName: userName, Active: ptr.To(true),
						MemberOf: []string{fmt.Sprintf("mem-group-%d", first), fmt.Sprintf("mem-group-%d", second)}}})
			}
		}()
	}
	for i := range memoryBenchUsers {
		users <- i
	}
	close(users)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
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

// benchProcess runs one component with the cluster's admin kubeconfig: the benchmark measures
// memory, not permissions.
func benchProcess(b *testing.B, binary, name, kubeconfig string, args ...string) *replica {
	dir := b.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("memory-bench-token-0123456789abcdef0123\n"), 0o600); err != nil {
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
