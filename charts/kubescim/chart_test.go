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
// it produces: the objects parse, the pod is locked down, RBAC grants exactly what is
// configured, the CRDs ship as templates and values.schema.json refuses bad values.
package chart_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
		"ClusterRole", "ClusterRoleBinding",
		"CustomResourceDefinition", "CustomResourceDefinition", "CustomResourceDefinition",
		"Deployment", "PodDisruptionBudget", "Role", "RoleBinding", "Secret",
		"Service", "Service", "ServiceAccount",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rendered kinds = %v, want %v", got, want)
	}
}

func TestDeploymentIsRestricted(t *testing.T) {
	var d appsv1.Deployment
	find(t, render(t), "Deployment", "", &d)
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %d, want 2", *d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext is not restricted: %+v", psc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("container has no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("container root filesystem is writable")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("container allows privilege escalation")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("container capabilities = %+v, want drop [ALL] and no add", sc.Capabilities)
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("container seccompProfile is not RuntimeDefault")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("container resources = %+v, want cpu+memory requests and a memory limit", c.Resources)
	}
	for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port.String() != "probes" {
			t.Errorf("probe for %s = %+v", path, probe)
		}
	}
	if port := containerPort(c, "probes"); port != 8081 {
		t.Errorf("probes port = %d, want 8081", port)
	}
	for _, arg := range []string{
		"--leader-elect=true", "--health-probe-bind-address=:8081", "--metrics-bind-address=:9090",
		"--scim-bind-address=:8080", "--scim-token-secret=" + namespace + "/kubescim-scim-token",
		"--bindable-roles=ClusterRole/view,ClusterRole/edit,ClusterRole/admin",
		"--subject-attribute=userName", "--scim-max-body-bytes=1048576",
	} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("manager args %v lack %s", c.Args, arg)
		}
	}
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
			find(t, render(t, tt.set...), "Deployment", "", &d)
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
			find(t, objs, "ClusterRole", "", &role)
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
			find(t, objs, "Deployment", "", &d)
			if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, tc.flag) {
				t.Errorf("manager args %v lack %s", d.Spec.Template.Spec.Containers[0].Args, tc.flag)
			}
		})
	}
}

func equalNested(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

// The chart's ClusterRole carries every rule controller-gen generated from the code's markers.
func TestClusterRoleContainsGeneratedRules(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var generated rbacv1.ClusterRole
	if err := yaml.Unmarshal(data, &generated); err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	find(t, render(t), "ClusterRole", "", &role)
	for _, want := range generated.Rules {
		if !slices.ContainsFunc(role.Rules, func(r rbacv1.PolicyRule) bool { return fmt.Sprint(r) == fmt.Sprint(want) }) {
			t.Errorf("chart ClusterRole lacks generated rule %+v: run make generate", want)
		}
	}
}

func TestRoleReadsOnlyTheTokenSecret(t *testing.T) {
	var role rbacv1.Role
	find(t, render(t, "scim.token.existingSecret=idp-tokens"), "Role", "", &role)
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
	want := []string{"scimgroupbindings.scim.kubescim.io", "scimgroups.scim.kubescim.io", "scimusers.scim.kubescim.io"}
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
	find(t, objs, "Deployment", "", &d)
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
		"networkPolicy.enabled=true", "serviceAccounts.enabled=true", "replicaCount=1"))
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
