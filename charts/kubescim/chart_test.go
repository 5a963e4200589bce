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

// Package chart_test renders the kubescim Helm chart with the pinned helm binary and checks what
// it produces: the objects parse, the pods are locked down, each component's RBAC grants exactly
// what its code asks for, the admission policy confines the controllers, the CRDs ship as
// templates and values.schema.json refuses bad values. The chart's end-to-end proof, as its own
// identities on a real API server, is hack/e2e/chart_test.go.
package chart_test

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/kubescim/kubescim/hack/devcluster"
)

const (
	helmBinary = "../../bin/helm-v3.19.0"
	release    = "kubescim"
	namespace  = "kubescim-system"
	// kubeVersion satisfies Chart.yaml's kubeVersion; a go-installed helm defaults to v1.20.
	kubeVersion = "1.35.4"
)

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := os.Stat(helmBinary); err != nil {
		t.Fatalf("%s is missing: run make helm", helmBinary)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), helmBinary, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Keep helm's cache and config out of the user's home directory.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache",
		"HELM_CONFIG_HOME="+home+"/config", "HELM_DATA_HOME="+home+"/data")
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// render runs helm template with the given --set values and parses every object.
func render(t *testing.T, set ...string) []*unstructured.Unstructured {
	t.Helper()
	args := []string{"template", release, ".", "--namespace", namespace, "--kube-version", kubeVersion}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := devcluster.ParseManifests([]byte(out))
	if err != nil {
		t.Fatalf("rendered chart does not parse: %v", err)
	}
	return objs
}

// find returns the one object of kind (and name, when not empty), converted into out.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string, out any) {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && (name == "" || o.GetName() == name) {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s %q in the rendered chart, found %d", kind, name, len(found))
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(found[0].Object, out); err != nil {
		t.Fatalf("converting %s: %v", kind, err)
	}
}

func kinds(objs []*unstructured.Unstructured) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.GetKind())
	}
	slices.Sort(ks)
	return ks
}

func TestLint(t *testing.T) {
	if out, err := helm(t, "lint", ".", "--strict", "--kube-version", kubeVersion); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestDefaultRenderHasEveryObject(t *testing.T) {
	got := kinds(render(t))
	want := []string{
		"ClusterRole", "ClusterRole", "ClusterRole", // SCIM front end, controllers, uninstall hook
		"ClusterRoleBinding", "ClusterRoleBinding", "ClusterRoleBinding",
		"CustomResourceDefinition", "CustomResourceDefinition", "CustomResourceDefinition", "CustomResourceDefinition",
		"Deployment", "Deployment", "Job", "PodDisruptionBudget", "PodDisruptionBudget",
		"Role", "Role", "RoleBinding", "RoleBinding", "Secret",
		"Service", "Service", "ServiceAccount", "ServiceAccount", "ServiceAccount",
		"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rendered kinds = %v, want %v", got, want)
	}
}

// The Deployments of each layout, by name, and the args each must have.
var layouts = []struct {
	name        string
	set         []string
	deployments map[string][]string
}{
	{"two components", nil, map[string][]string{
		release: {"--components=scim", "--health-probe-bind-address=:8081", "--metrics-bind-address=:9090",
			"--scim-bind-address=:8080", "--scim-token-secret=" + namespace + "/kubescim-scim-token",
			"--scim-max-body-bytes=1048576", "--shutdown-delay=5s", "--shutdown-timeout=25s"},
		release + "-controller": {"--components=controllers", "--leader-elect=true", "--leader-election-namespace=" + namespace,
			"--health-probe-bind-address=:8081", "--metrics-bind-address=:9090",
			"--bindable-roles=ClusterRole/view,ClusterRole/edit,ClusterRole/admin", "--subject-attribute=userName",
			"--shutdown-timeout=25s"},
	}},
	{"combined", []string{"components.combined=true"}, map[string][]string{
		release: {"--components=scim,controllers", "--leader-elect=true", "--scim-bind-address=:8080",
			"--scim-token-secret=" + namespace + "/kubescim-scim-token",
			"--bindable-roles=ClusterRole/view,ClusterRole/edit,ClusterRole/admin"},
	}},
	{"fleet member", memberValues, map[string][]string{
		release + "-controller": {"--components=controllers", "--leader-elect=true",
			"--hub-kubeconfig=/etc/kubescim/hub/kubeconfig", "--cluster-name=prod-eu",
			"--hub-unreachable-policy=Revoke", "--hub-grace-period=5m", "--hub-heartbeat=10s"},
	}},
}

// memberValues install the chart as the fleet member prod-eu.
var memberValues = []string{"mode=member", "fleet.clusterName=prod-eu", "fleet.hubKubeconfigSecret=hub"}

func deployments(objs []*unstructured.Unstructured) map[string]*appsv1.Deployment {
	out := map[string]*appsv1.Deployment{}
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &d); err != nil {
			panic(err)
		}
		out[d.Name] = &d
	}
	return out
}

func TestDeploymentsAreRestricted(t *testing.T) {
	for _, layout := range layouts {
		t.Run(layout.name, func(t *testing.T) {
			got := deployments(render(t, layout.set...))
			if len(got) != len(layout.deployments) {
				t.Fatalf("Deployments %v, want %v", slices.Collect(maps.Keys(got)), slices.Collect(maps.Keys(layout.deployments)))
			}
			for name, args := range layout.deployments {
				d := got[name]
				if d == nil {
					t.Fatalf("no Deployment %s", name)
				}
				checkRestricted(t, d)
				for _, arg := range args {
					if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, arg) {
						t.Errorf("%s args %v lack %s", name, d.Spec.Template.Spec.Containers[0].Args, arg)
					}
				}
			}
		})
	}
}

func checkRestricted(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	if *d.Spec.Replicas != 2 {
		t.Errorf("%s replicas = %d, want 2", d.Name, *d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s pod securityContext is not restricted: %+v", d.Name, psc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: want one container, got %d", d.Name, len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatalf("%s: container has no securityContext", d.Name)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("%s: container root filesystem is writable", d.Name)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("%s: container allows privilege escalation", d.Name)
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("%s: container capabilities = %+v, want drop [ALL] and no add", d.Name, sc.Capabilities)
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("%s: container seccompProfile is not RuntimeDefault", d.Name)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: container resources = %+v, want cpu+memory requests and a memory limit", d.Name, c.Resources)
	}
	for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port.String() != "probes" {
			t.Errorf("%s: probe for %s = %+v", d.Name, path, probe)
		}
	}
	if port := containerPort(c, "probes"); port != 8081 {
		t.Errorf("%s: probes port = %d, want 8081", d.Name, port)
	}
	// The kubelet must never SIGKILL a replica still draining: the SCIM drain, then the
	// manager's margin to stop the controllers and release the Lease.
	timeout := argDuration(t, c.Args, "--shutdown-timeout")
	if grace := pod.TerminationGracePeriodSeconds; grace == nil || time.Duration(*grace)*time.Second < timeout+10*time.Second {
		t.Errorf("%s: terminationGracePeriodSeconds = %v, want at least --shutdown-timeout (%s) + 10s", d.Name, grace, timeout)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "KUBESCIM_MEMORY_LIMIT" && e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil &&
			e.ValueFrom.ResourceFieldRef.Resource == "limits.memory"
	}) {
		t.Errorf("%s: env %+v lacks KUBESCIM_MEMORY_LIMIT from limits.memory (the Go soft memory limit)", d.Name, c.Env)
	}
}

func argDuration(t *testing.T, args []string, flag string) time.Duration {
	t.Helper()
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatalf("%s: %v", a, err)
			}
			return d
		}
	}
	t.Fatalf("args %v lack %s", args, flag)
	return 0
}

// TestExternalURLFollowsTheIngressHost: with an Ingress, locations are built from its host,
// never from what a client sends, unless scim.externalURL says otherwise.
func TestExternalURLFollowsTheIngressHost(t *testing.T) {
	tests := []struct {
		name string
		set  []string
		want string // the --scim-external-url argument, "" for none
	}{
		{"no Ingress, no externalURL", nil, ""},
		{"Ingress host", []string{"ingress.enabled=true", "ingress.host=scim.corp.example"}, "https://scim.corp.example"},
		{"externalURL wins", []string{"ingress.enabled=true", "ingress.host=scim.corp.example", "scim.externalURL=https://idp-facing.example"},
			"https://idp-facing.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d appsv1.Deployment
			find(t, render(t, tt.set...), "Deployment", release, &d)
			args := d.Spec.Template.Spec.Containers[0].Args
			got := ""
			for _, a := range args {
				if v, ok := strings.CutPrefix(a, "--scim-external-url="); ok {
					got = v
				}
			}
			if got != tt.want {
				t.Errorf("--scim-external-url = %q, want %q (args %v)", got, tt.want, args)
			}
			if !slices.Contains(args, "--scim-trust-forwarded-headers=false") {
				t.Errorf("forwarded headers must not be trusted by default: %v", args)
			}
		})
	}
}

func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// bindRules returns the resourceNames of every rule granting bind on resource; a rule that
// mixes resource with other resources shows up as nil, so it never matches what a test wants.
func bindRules(role rbacv1.ClusterRole, resource string) [][]string {
	var names [][]string
	for _, r := range role.Rules {
		if slices.Contains(r.Verbs, "bind") {
			if !slices.Equal(r.Resources, []string{resource}) && slices.Contains(r.Resources, resource) {
				names = append(names, nil) // bind mixed with other resources: never intended
			}
			if slices.Equal(r.Resources, []string{resource}) {
				names = append(names, r.ResourceNames)
			}
		}
	}
	return names
}

func TestClusterRoleBindsExactlyTheConfiguredRoles(t *testing.T) {
	for _, tc := range []struct {
		name         string
		set          []string
		clusterRoles [][]string
		roles        [][]string
		flag         string
	}{
		{"default", nil, [][]string{{"view", "edit", "admin"}}, nil,
			"--bindable-roles=ClusterRole/view,ClusterRole/edit,ClusterRole/admin"},
		{"mixed", []string{"rbac.bindableRoles={ClusterRole/view,Role/deployer,edit}"},
			[][]string{{"view", "edit"}}, [][]string{{"deployer"}},
			"--bindable-roles=ClusterRole/view,ClusterRole/edit,Role/deployer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := render(t, tc.set...)
			var role rbacv1.ClusterRole
			find(t, objs, "ClusterRole", release+"-controller", &role)
			if got := bindRules(role, "clusterroles"); !equalNested(got, tc.clusterRoles) {
				t.Errorf("bind on clusterroles: resourceNames %v, want %v", got, tc.clusterRoles)
			}
			if got := bindRules(role, "roles"); !equalNested(got, tc.roles) {
				t.Errorf("bind on roles: resourceNames %v, want %v", got, tc.roles)
			}
			for _, r := range role.Rules {
				if slices.Contains(r.Verbs, "bind") && len(r.ResourceNames) == 0 {
					t.Errorf("unrestricted bind rule %+v", r)
				}
				if slices.Contains(r.Verbs, "escalate") || slices.Contains(r.Verbs, "*") {
					t.Errorf("rule grants %v: %+v", r.Verbs, r)
				}
			}
			var d appsv1.Deployment
			find(t, objs, "Deployment", release+"-controller", &d)
			if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, tc.flag) {
				t.Errorf("manager args %v lack %s", d.Spec.Template.Spec.Containers[0].Args, tc.flag)
			}
		})
	}
}

func equalNested(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

// generatedRoles reads config/rbac/COMPONENT/role.yaml, controller-gen's output of that
// component's markers: the ClusterRole's rules under "", each Role's under its namespace.
func generatedRoles(t *testing.T, component string) map[string][]rbacv1.PolicyRule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", component, "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]rbacv1.PolicyRule{}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var role rbacv1.Role // a ClusterRole parses the same, without a namespace
		if err := yaml.Unmarshal([]byte(doc), &role); err != nil {
			t.Fatal(err)
		}
		if role.Kind != "" {
			out[role.Namespace] = role.Rules
		}
	}
	return out
}

// Every component's RBAC in the chart carries every rule controller-gen generated from that
// component's markers, in the place the marker asks for: "system" is the release namespace.
func TestRolesContainGeneratedRules(t *testing.T) {
	objs := render(t, "serviceAccounts.enabled=true", "serviceAccounts.createNamespace=false")
	rendered := map[string][]rbacv1.PolicyRule{} // kind/namespace/name -> rules
	for _, o := range objs {
		if o.GetKind() != "ClusterRole" && o.GetKind() != "Role" {
			continue
		}
		var role rbacv1.Role
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &role); err != nil {
			t.Fatal(err)
		}
		rendered[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] = role.Rules
	}
	for _, o := range render(t, memberValues...) { // the member's ClusterRole renders only in mode=member
		if o.GetKind() == "ClusterRole" && o.GetName() == release+"-member" {
			var role rbacv1.Role
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &role); err != nil {
				t.Fatal(err)
			}
			rendered["ClusterRole//"+o.GetName()] = role.Rules
		}
	}
	placeOf := map[string]string{"": "ClusterRole//", "system": "Role/" + namespace + "/", "kubescim-users": "Role/kubescim-users/"}
	for _, component := range []string{"scim", "controller", "cleanup", "member"} {
		for ns, rules := range generatedRoles(t, component) {
			place, ok := placeOf[ns]
			if !ok {
				t.Errorf("config/rbac/%s asks for a Role in namespace %q, which the chart does not place", component, ns)
				continue
			}
			key := place + release + "-" + component
			got, ok := rendered[key]
			if !ok {
				t.Errorf("chart renders no %s for config/rbac/%s (namespace %q)", key, component, ns)
				continue
			}
			for _, want := range rules {
				if !slices.ContainsFunc(got, func(r rbacv1.PolicyRule) bool { return sameRule(r, want) }) {
					t.Errorf("%s lacks generated rule %+v: run make generate", key, want)
				}
			}
		}
	}
}

// sameRule: the chart may narrow a generated rule to resourceNames (the token Secret).
func sameRule(chart, generated rbacv1.PolicyRule) bool {
	if len(generated.ResourceNames) == 0 {
		chart.ResourceNames = nil
	}
	return fmt.Sprint(chart) == fmt.Sprint(generated)
}

func TestRoleReadsOnlyTheTokenSecret(t *testing.T) {
	var role rbacv1.Role
	find(t, render(t, "scim.token.existingSecret=idp-tokens"), "Role", release+"-scim", &role)
	var secretRules []rbacv1.PolicyRule
	for _, r := range role.Rules {
		if slices.Contains(r.Resources, "secrets") {
			secretRules = append(secretRules, r)
		}
	}
	if len(secretRules) != 1 || !slices.Equal(secretRules[0].ResourceNames, []string{"idp-tokens"}) {
		t.Errorf("secret rules = %+v, want one rule limited to resourceNames [idp-tokens]", secretRules)
	}
	if role.Namespace != namespace {
		t.Errorf("Role namespace = %q, want the release namespace %q", role.Namespace, namespace)
	}
}

func TestTokenSecretIsGeneratedUnlessGiven(t *testing.T) {
	var secret corev1.Secret
	find(t, render(t), "Secret", "", &secret)
	if len(secret.Data["idp"]) < 32 {
		t.Errorf("generated token secret data = %v, want a random token under key idp", secret.Data)
	}
	for _, o := range render(t, "scim.token.existingSecret=idp-tokens") {
		if o.GetKind() == "Secret" {
			t.Errorf("chart renders Secret %s although scim.token.existingSecret is set", o.GetName())
		}
	}
}

func TestCRDsAreTemplatesKeptOnUninstall(t *testing.T) {
	var names []string
	for _, o := range render(t) {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		names = append(names, o.GetName())
		if o.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
			t.Errorf("CRD %s lacks helm.sh/resource-policy: keep", o.GetName())
		}
	}
	slices.Sort(names)
	want := []string{"scimgroupbindings.scim.kubescim.io", "scimgroups.scim.kubescim.io", "scimmembers.scim.kubescim.io", "scimusers.scim.kubescim.io"}
	if !slices.Equal(names, want) {
		t.Errorf("CRDs = %v, want %v", names, want)
	}
	if _, err := os.Stat("crds"); err == nil {
		t.Error("chart has a crds/ directory: CRDs there are never upgraded")
	}
	for _, o := range render(t, "crds.install=false") {
		if o.GetKind() == "CustomResourceDefinition" {
			t.Errorf("crds.install=false still renders %s", o.GetName())
		}
	}
}

func TestTLSServesHTTPSOn443(t *testing.T) {
	objs := render(t, "scim.tls.enabled=true", "scim.tls.secretName=scim-tls")
	var svc corev1.Service
	find(t, objs, "Service", release, &svc)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 443 || svc.Spec.Ports[0].TargetPort.String() != "scim" {
		t.Errorf("SCIM Service ports = %+v, want 443 -> scim", svc.Spec.Ports)
	}
	var d appsv1.Deployment
	find(t, objs, "Deployment", release, &d)
	c := d.Spec.Template.Spec.Containers[0]
	if containerPort(c, "scim") != 8443 || !slices.Contains(c.Args, "--scim-bind-address=:8443") ||
		!slices.Contains(c.Args, "--scim-tls-cert-file=/etc/kubescim/tls/tls.crt") {
		t.Errorf("TLS container = ports %+v args %v", c.Ports, c.Args)
	}
	if _, err := helm(t, "template", release, ".", "--kube-version", kubeVersion, "--set", "scim.tls.enabled=true"); err == nil {
		t.Error("scim.tls.enabled without scim.tls.secretName rendered")
	}

	find(t, render(t), "Service", release, &svc)
	if svc.Spec.Ports[0].Port != 80 {
		t.Errorf("plain SCIM Service port = %d, want 80", svc.Spec.Ports[0].Port)
	}
}

func TestOptionalObjects(t *testing.T) {
	got := kinds(render(t, "ingress.enabled=true", "metrics.serviceMonitor.enabled=true",
		"networkPolicy.enabled=true", "serviceAccounts.enabled=true", "replicaCount=1", "controller.replicaCount=1"))
	for _, want := range []string{"Ingress", "ServiceMonitor", "NetworkPolicy", "Namespace"} {
		if !slices.Contains(got, want) {
			t.Errorf("rendered kinds %v lack %s", got, want)
		}
	}
	if slices.Contains(got, "PodDisruptionBudget") {
		t.Error("a PodDisruptionBudget for one replica would block node drains")
	}
}

func TestSchemaRejectsBadValues(t *testing.T) {
	for _, set := range []string{
		"subject.attribute=mail",
		"replicaCount=0",
		"image.pullPolicy=Sometimes",
		"logging.encoder=xml",
		"rbac.bindableRoles=null",
		"rbac.bindableRoles={Cluster-Admin!}",
		"subject.prefix=system:",
		"scim.maxBodyBytes=-1",
		"scim.externalURL=ftp://x",
		"scim.maxBulkOperations=0",
		"scim.trustForwardedHeaders=maybe",
		"serviceAccounts.namespace=Not_A_Namespace",
		"unknownValue=1",
		"scim.tls.unknown=1",
		"controller.replicaCount=0",
		"components.combined=maybe",
		"shutdown.timeoutSeconds=0",
		"uninstall.keepGrants=perhaps",
		"rbac.admissionPolicy.enabled=sometimes",
		"scim.tls.certManager.enabled=true", // without scim.tls.enabled
		"scim.tls.certManager.issuerRef.kind=Vault",
		"mode=spoke",
		"fleet.unreachablePolicy=Freeze",
		"fleet.gracePeriod=5 minutes",
		"fleet.clusterName=Prod_EU",
	} {
		t.Run(set, func(t *testing.T) {
			out, err := helm(t, "template", release, ".", "--kube-version", kubeVersion, "--set", set)
			if err == nil {
				t.Fatalf("--set %s rendered; values.schema.json should refuse it", set)
			}
			if !strings.Contains(out, "values don't meet the specifications of the schema") {
				t.Errorf("--set %s failed, but not on the schema:\n%s", set, out)
			}
		})
	}
}

// hasRuleOn reports whether any rule grants any verb on resource of group.
func hasRuleOn(rules []rbacv1.PolicyRule, group, resource string) bool {
	return slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool {
		return slices.Contains(r.APIGroups, group) && (slices.Contains(r.Resources, resource) || slices.Contains(r.Resources, "*"))
	})
}

// TestComponentsRunApart: the internet-facing SCIM front end has no right on RBAC objects,
// ServiceAccounts or status; the controllers serve no SCIM; and the SCIM Deployment keeps the
// name and selector of the single-Deployment chart, so `helm upgrade` rolls it over in place.
func TestComponentsRunApart(t *testing.T) {
	objs := render(t, "serviceAccounts.enabled=true")
	var scimRole rbacv1.ClusterRole
	find(t, objs, "ClusterRole", release+"-scim", &scimRole)
	var scimNamespaced rbacv1.Role
	find(t, objs, "Role", release+"-scim", &scimNamespaced)
	for _, rules := range [][]rbacv1.PolicyRule{scimRole.Rules, scimNamespaced.Rules} {
		for _, forbidden := range []struct{ group, resource string }{
			{"rbac.authorization.k8s.io", "rolebindings"}, {"rbac.authorization.k8s.io", "clusterrolebindings"},
			{"rbac.authorization.k8s.io", "clusterroles"}, {"rbac.authorization.k8s.io", "roles"},
			{"", "serviceaccounts"}, {"scim.kubescim.io", "scimusers/status"}, {"scim.kubescim.io", "scimgroupbindings"},
			{"coordination.k8s.io", "leases"},
		} {
			if hasRuleOn(rules, forbidden.group, forbidden.resource) {
				t.Errorf("the SCIM front end may touch %s (group %q): %+v", forbidden.resource, forbidden.group, rules)
			}
		}
	}
	var scimBinding rbacv1.ClusterRoleBinding
	find(t, objs, "ClusterRoleBinding", release+"-scim", &scimBinding)
	var controllerBinding rbacv1.ClusterRoleBinding
	find(t, objs, "ClusterRoleBinding", release+"-controller", &controllerBinding)
	if scimBinding.Subjects[0].Name == controllerBinding.Subjects[0].Name {
		t.Errorf("both components run as ServiceAccount %s", scimBinding.Subjects[0].Name)
	}

	ds := deployments(objs)
	scim, ctl := ds[release], ds[release+"-controller"]
	if scim == nil || ctl == nil {
		t.Fatalf("Deployments %v, want %s and %s-controller", slices.Collect(maps.Keys(ds)), release, release)
	}
	// The single-Deployment chart's name and (immutable) selector.
	if want := map[string]string{"app.kubernetes.io/name": "kubescim", "app.kubernetes.io/instance": release}; !maps.Equal(scim.Spec.Selector.MatchLabels, want) {
		t.Errorf("SCIM Deployment selector = %v, want the single-Deployment chart's %v", scim.Spec.Selector.MatchLabels, want)
	}
	if scim.Spec.Template.Spec.ServiceAccountName != release {
		t.Errorf("SCIM ServiceAccount = %s, want the single-Deployment chart's %s", scim.Spec.Template.Spec.ServiceAccountName, release)
	}
	if sel := labels.SelectorFromSet(scim.Spec.Selector.MatchLabels); sel.Matches(labels.Set(ctl.Spec.Template.Labels)) {
		t.Errorf("the SCIM Deployment's selector %v matches the controller pods %v", sel, ctl.Spec.Template.Labels)
	}
	if sel := labels.SelectorFromSet(ctl.Spec.Selector.MatchLabels); sel.Matches(labels.Set(scim.Spec.Template.Labels)) {
		t.Errorf("the controller Deployment's selector %v matches the SCIM pods %v", sel, scim.Spec.Template.Labels)
	}
	c := ctl.Spec.Template.Spec.Containers[0]
	if containerPort(c, "scim") != 0 || slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--scim-") }) {
		t.Errorf("the controllers serve SCIM: ports %+v args %v", c.Ports, c.Args)
	}
	if s := scim.Spec.Template.Spec.Containers[0].Args; slices.ContainsFunc(s, func(a string) bool { return strings.HasPrefix(a, "--leader-elect") }) {
		t.Errorf("the SCIM front end takes part in leader election: %v", s)
	}

	for _, name := range []string{release, release + "-metrics"} {
		var svc corev1.Service
		find(t, objs, "Service", name, &svc)
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		scimPods, ctlPods := sel.Matches(labels.Set(scim.Spec.Template.Labels)), sel.Matches(labels.Set(ctl.Spec.Template.Labels))
		if name == release && (!scimPods || ctlPods) {
			t.Errorf("SCIM Service selector %v: SCIM pods %v, controller pods %v; want only the SCIM pods", sel, scimPods, ctlPods)
		}
		if name == release+"-metrics" && (!scimPods || !ctlPods) {
			t.Errorf("metrics Service selector %v: SCIM pods %v, controller pods %v; want both", sel, scimPods, ctlPods)
		}
	}
}

func TestCombinedKeepsOneDeploymentAndServiceAccount(t *testing.T) {
	objs := render(t, "components.combined=true")
	if ds := deployments(objs); len(ds) != 1 || ds[release] == nil {
		t.Errorf("combined renders Deployments %v, want only %s", slices.Collect(maps.Keys(ds)), release)
	}
	sas := 0
	for _, o := range objs {
		if o.GetKind() == "ServiceAccount" && o.GetAnnotations()["helm.sh/hook"] == "" {
			sas++
		}
	}
	if sas != 1 {
		t.Errorf("combined renders %d ServiceAccounts, want 1", sas)
	}
	var b rbacv1.ClusterRoleBinding
	find(t, objs, "ClusterRoleBinding", release+"-controller", &b)
	if b.Subjects[0].Name != release {
		t.Errorf("combined: the controllers' RBAC is bound to %s, want the one ServiceAccount %s", b.Subjects[0].Name, release)
	}
	var policy unstructured.Unstructured
	find(t, objs, "ValidatingAdmissionPolicy", "", &policy.Object)
	if cond := matchCondition(t, &policy); !strings.Contains(cond, `"system:serviceaccount:`+namespace+`:`+release+`"`) {
		t.Errorf("combined: admission policy matches %s, want the one ServiceAccount", cond)
	}
}

func matchCondition(t *testing.T, policy *unstructured.Unstructured) string {
	t.Helper()
	conds, _, _ := unstructured.NestedSlice(policy.Object, "spec", "matchConditions")
	if len(conds) != 1 {
		t.Fatalf("admission policy matchConditions = %v, want one", conds)
	}
	return conds[0].(map[string]any)["expression"].(string)
}

// TestAdmissionPolicyConfinesTheControllers checks the rendered policy; hack/e2e proves on a
// real API server that it refuses what it should and lets kubescim work.
func TestAdmissionPolicyConfinesTheControllers(t *testing.T) {
	objs := render(t, "rbac.bindableRoles={view,Role/deployer}")
	var policy unstructured.Unstructured
	find(t, objs, "ValidatingAdmissionPolicy", "", &policy.Object)
	if fp, _, _ := unstructured.NestedString(policy.Object, "spec", "failurePolicy"); fp != "Fail" {
		t.Errorf("failurePolicy = %q, want Fail", fp)
	}
	if cond := matchCondition(t, &policy); cond != `request.userInfo.username == "system:serviceaccount:`+namespace+`:`+release+`-controller"` {
		t.Errorf("admission policy matches %s, want the controllers' ServiceAccount only", cond)
	}
	vars, _, _ := unstructured.NestedSlice(policy.Object, "spec", "variables")
	want := map[string]string{"bindableClusterRoles": `["view"]`, "bindableRoles": `["deployer"]`}
	for _, v := range vars {
		m := v.(map[string]any)
		if w, ok := want[m["name"].(string)]; ok {
			if m["expression"] != w {
				t.Errorf("variable %s = %v, want %s", m["name"], m["expression"], w)
			}
			delete(want, m["name"].(string))
		}
	}
	if len(want) > 0 {
		t.Errorf("admission policy lacks variables %v", want)
	}
	var binding unstructured.Unstructured
	find(t, objs, "ValidatingAdmissionPolicyBinding", "", &binding.Object)
	if name, _, _ := unstructured.NestedString(binding.Object, "spec", "policyName"); name != policy.GetName() {
		t.Errorf("binding names policy %q, want %q", name, policy.GetName())
	}
	if actions, _, _ := unstructured.NestedStringSlice(binding.Object, "spec", "validationActions"); !slices.Equal(actions, []string{"Deny"}) {
		t.Errorf("validationActions = %v, want [Deny]", actions)
	}
	for _, o := range render(t, "rbac.admissionPolicy.enabled=false") {
		if strings.HasPrefix(o.GetKind(), "ValidatingAdmissionPolicy") {
			t.Errorf("rbac.admissionPolicy.enabled=false still renders %s", o.GetKind())
		}
	}
}

// TestServiceAccountRightsOnlyInTheirNamespace: the controllers may write ServiceAccounts in
// serviceAccounts.namespace only, through a Role there, and nowhere with serviceAccounts.enabled=false.
func TestServiceAccountRightsOnlyInTheirNamespace(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want []string // where ServiceAccounts may be touched (release components only, not the uninstall hook)
	}{
		{nil, nil},
		{[]string{"serviceAccounts.enabled=true", "serviceAccounts.namespace=people"}, []string{"Role/people/" + release + "-controller"}},
	} {
		var got []string
		for _, o := range render(t, tc.set...) {
			if (o.GetKind() != "Role" && o.GetKind() != "ClusterRole") || o.GetAnnotations()["helm.sh/hook"] != "" {
				continue
			}
			var role rbacv1.Role
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &role); err != nil {
				t.Fatal(err)
			}
			if hasRuleOn(role.Rules, "", "serviceaccounts") {
				got = append(got, o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName())
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("--set %v: ServiceAccount rights in %v, want %v", tc.set, got, tc.want)
		}
	}
}

func TestCertManagerCertificate(t *testing.T) {
	objs := render(t, "scim.tls.enabled=true", "scim.tls.certManager.enabled=true",
		"scim.tls.certManager.issuerRef.name=corp-ca", "scim.tls.certManager.issuerRef.kind=ClusterIssuer",
		"ingress.enabled=true", "ingress.host=scim.corp.example")
	var cert unstructured.Unstructured
	find(t, objs, "Certificate", "", &cert.Object)
	secret, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
	issuer, _, _ := unstructured.NestedStringMap(cert.Object, "spec", "issuerRef")
	dns, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	if want := map[string]string{"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}; !maps.Equal(issuer, want) {
		t.Errorf("issuerRef = %v, want %v", issuer, want)
	}
	for _, name := range []string{"scim.corp.example", release + "." + namespace + ".svc"} {
		if !slices.Contains(dns, name) {
			t.Errorf("dnsNames %v lack %s", dns, name)
		}
	}
	var d appsv1.Deployment
	find(t, objs, "Deployment", release, &d)
	vols := d.Spec.Template.Spec.Volumes
	if !slices.ContainsFunc(vols, func(v corev1.Volume) bool { return v.Secret != nil && v.Secret.SecretName == secret }) {
		t.Errorf("the SCIM pods do not mount the Certificate's Secret %s: %+v", secret, vols)
	}
	if _, err := helm(t, "template", release, ".", "--kube-version", kubeVersion, "--set", "scim.tls.enabled=true",
		"--set", "scim.tls.certManager.enabled=true"); err == nil {
		t.Error("scim.tls.certManager.enabled without an issuerRef.name rendered")
	}
	for _, o := range render(t, "scim.tls.enabled=true", "scim.tls.secretName=mine") {
		if o.GetKind() == "Certificate" {
			t.Error("a Certificate is rendered without scim.tls.certManager.enabled")
		}
	}
}

// TestUninstallHookIsMinimal: the post-delete cleanup Job runs `kubescim cleanup` under its own
// ServiceAccount, which may only list and delete.
func TestUninstallHookIsMinimal(t *testing.T) {
	objs := render(t, "serviceAccounts.enabled=true", "serviceAccounts.createNamespace=false")
	var job batchv1.Job
	find(t, objs, "Job", "", &job)
	if job.Annotations["helm.sh/hook"] != "post-delete" {
		t.Errorf("cleanup Job hook = %q, want post-delete (after the controllers are gone)", job.Annotations["helm.sh/hook"])
	}
	c := job.Spec.Template.Spec.Containers[0]
	if c.Args[0] != "cleanup" || !slices.Contains(c.Args, "--service-account-namespace=kubescim-users") {
		t.Errorf("cleanup args = %v", c.Args)
	}
	sa := job.Spec.Template.Spec.ServiceAccountName
	for _, o := range objs {
		if o.GetKind() != "ClusterRoleBinding" && o.GetKind() != "RoleBinding" {
			continue
		}
		var b rbacv1.RoleBinding
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &b); err != nil {
			t.Fatal(err)
		}
		if b.Subjects[0].Name != sa {
			continue
		}
		if o.GetAnnotations()["helm.sh/hook"] != "post-delete" {
			t.Errorf("%s %s for the cleanup Job is not a hook: it would grant at install", o.GetKind(), o.GetName())
		}
		for _, r := range roleRules(t, objs, b) {
			for _, v := range r.Verbs {
				if v != "list" && v != "delete" {
					t.Errorf("cleanup Job may %s %v", v, r.Resources)
				}
			}
		}
	}
	for _, o := range render(t, "uninstall.keepGrants=true") {
		if o.GetAnnotations()["helm.sh/hook"] != "" {
			t.Errorf("uninstall.keepGrants=true still renders hook %s %s", o.GetKind(), o.GetName())
		}
	}
	// The namespace goes with the release: nothing to delete there, and no Role to put in it.
	find(t, render(t, "serviceAccounts.enabled=true"), "Job", "", &job)
	if slices.ContainsFunc(job.Spec.Template.Spec.Containers[0].Args, func(a string) bool { return strings.HasPrefix(a, "--service-account-namespace") }) {
		t.Errorf("cleanup deletes ServiceAccounts in the chart's own namespace: %v", job.Spec.Template.Spec.Containers[0].Args)
	}
}

func roleRules(t *testing.T, objs []*unstructured.Unstructured, b rbacv1.RoleBinding) []rbacv1.PolicyRule {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == b.RoleRef.Kind && o.GetName() == b.RoleRef.Name && o.GetNamespace() == b.Namespace {
			var role rbacv1.Role
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &role); err != nil {
				t.Fatal(err)
			}
			return role.Rules
		}
	}
	t.Fatalf("%s %s of binding %s is not rendered", b.RoleRef.Kind, b.RoleRef.Name, b.Name)
	return nil
}

func TestNetworkPolicyAdmitsTheIdPOnlyToTheFrontEnd(t *testing.T) {
	objs := render(t, "networkPolicy.enabled=true", "networkPolicy.scimFrom[0].podSelector.matchLabels.app=ingress")
	for _, name := range []string{release, release + "-controller"} {
		var np networkingv1.NetworkPolicy
		find(t, objs, "NetworkPolicy", name, &np)
		var ports []string
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				ports = append(ports, p.Port.String())
			}
		}
		slices.Sort(ports)
		want := []string{"metrics", "probes", "scim"}
		if name != release {
			want = []string{"metrics", "probes"}
		}
		if !slices.Equal(ports, want) {
			t.Errorf("NetworkPolicy %s admits ports %v, want %v", name, ports, want)
		}
	}
}

// The drain's delay must end before its timeout, as the binary itself insists.
func TestShutdownDelayBeforeTimeout(t *testing.T) {
	out, err := helm(t, "template", release, ".", "--kube-version", kubeVersion, "--set", "shutdown.delaySeconds=25")
	if err == nil || !strings.Contains(out, "shutdown.delaySeconds must be shorter than shutdown.timeoutSeconds") {
		t.Errorf("shutdown.delaySeconds = shutdown.timeoutSeconds rendered or failed otherwise: %v\n%s", err, out)
	}
	var d appsv1.Deployment
	find(t, render(t, "shutdown.delaySeconds=2", "shutdown.timeoutSeconds=50"), "Deployment", release, &d)
	if args := d.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--shutdown-delay=2s") || !slices.Contains(args, "--shutdown-timeout=50s") ||
		*d.Spec.Template.Spec.TerminationGracePeriodSeconds != 60 {
		t.Errorf("shutdown values not applied: args %v, grace %d", args, *d.Spec.Template.Spec.TerminationGracePeriodSeconds)
	}
}

// authzWebhook.enabled serves the webhook from the pods that run the controllers only, behind a
// Service with only that port, admitted by the NetworkPolicy from apiServerFrom.
func TestAuthzWebhookRunsWithTheControllers(t *testing.T) {
	set := []string{"authzWebhook.enabled=true", "authzWebhook.secretName=authz-tls", "networkPolicy.enabled=true",
		"authzWebhook.apiServerFrom[0].ipBlock.cidr=10.0.0.0/24"}
	for _, tc := range []struct {
		name, deployment string
		set              []string
	}{
		{"two components", release + "-controller", set},
		{"combined", release, append([]string{"components.combined=true"}, set...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := render(t, tc.set...)
			wantArgs := []string{"--authz-webhook-bind-address=:9443", "--authz-webhook-tls-cert-file=/etc/kubescim/authz-webhook/tls.crt",
				"--authz-webhook-tls-key-file=/etc/kubescim/authz-webhook/tls.key", "--authz-webhook-client-ca=/etc/kubescim/authz-webhook/ca.crt"}
			for name, d := range deployments(objs) {
				c := d.Spec.Template.Spec.Containers[0]
				has := slices.Contains(c.Args, wantArgs[0]) || containerPort(c, "authz-webhook") != 0
				if name != tc.deployment {
					if has {
						t.Errorf("Deployment %s (no controllers) serves the webhook", name)
					}
					continue
				}
				for _, a := range wantArgs {
					if !slices.Contains(c.Args, a) {
						t.Errorf("Deployment %s lacks %s: %v", name, a, c.Args)
					}
				}
				if containerPort(c, "authz-webhook") != 9443 {
					t.Errorf("Deployment %s ports %+v, want authz-webhook 9443", name, c.Ports)
				}
			}
			var svc corev1.Service
			find(t, objs, "Service", release+"-authz-webhook", &svc)
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "authz-webhook" {
				t.Errorf("webhook Service ports %+v, want only authz-webhook", svc.Spec.Ports)
			}
			var d appsv1.Deployment
			find(t, objs, "Deployment", tc.deployment, &d)
			if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
				t.Errorf("webhook Service selector %v does not select %s", svc.Spec.Selector, tc.deployment)
			}
			var np networkingv1.NetworkPolicy
			find(t, objs, "NetworkPolicy", tc.deployment, &np)
			admitted := false
			for _, rule := range np.Spec.Ingress {
				for _, p := range rule.Ports {
					if p.Port.String() == "authz-webhook" {
						admitted = len(rule.From) == 1 && rule.From[0].IPBlock != nil && rule.From[0].IPBlock.CIDR == "10.0.0.0/24"
					}
				}
			}
			if !admitted {
				t.Errorf("NetworkPolicy %s does not admit the webhook port from apiServerFrom: %+v", tc.deployment, np.Spec.Ingress)
			}
		})
	}
	if _, err := helm(t, "template", release, ".", "--kube-version", kubeVersion, "--set", "authzWebhook.enabled=true"); err == nil {
		t.Error("authzWebhook.enabled without authzWebhook.secretName rendered")
	}
}
