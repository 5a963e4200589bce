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

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// `kubescim join NAME`, run against the hub with an admin's kubeconfig, registers a member
// cluster: its ScimMember, a ServiceAccount whose token the member uses, and RBAC that lets it
// read identities and write its own ScimMember's status, nothing else. It prints the kubeconfig
// the member's kubescim needs (--hub-kubeconfig). Revoking a member is deleting its
// ServiceAccount (every token it was issued stops working) and its ScimMember.

// memberReaderRole is the ClusterRole every member shares: read the hub's identities and its
// bindings (a member mirrors the fleet bindings that select it).
const memberReaderRole = "kubescim-fleet-member"

type joinOptions struct {
	name, namespace, server, output string
	tokenDuration                   time.Duration
}

func bindJoinFlags(fs *flag.FlagSet) *joinOptions {
	o := &joinOptions{}
	fs.StringVar(&o.namespace, "namespace", "kubescim-fleet", "Hub namespace of the members' ServiceAccounts.")
	fs.StringVar(&o.server, "server", "", "Hub API server URL as the member reaches it (default: the one in the kubeconfig).")
	fs.StringVar(&o.output, "output", "-", "Where to write the member's hub kubeconfig; - is stdout.")
	fs.DurationVar(&o.tokenDuration, "token-duration", 365*24*time.Hour, "Lifetime of the member's token (the API server may cap it); join again to renew.")
	return o
}

// joinMain runs `kubescim join NAME [flags]`.
func joinMain(args []string) {
	fs := flag.CommandLine
	o := bindJoinFlags(fs)
	_ = fs.Parse(args)
	// The flags may follow the name, as the README writes it: `kubescim join NAME --server URL`.
	if fs.NArg() > 1 {
		name := fs.Arg(0)
		_ = fs.Parse(fs.Args()[1:])
		args = append([]string{name}, fs.Args()...)
		_ = fs.Parse(args) // no flags left: NArg is what remains
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: kubescim join NAME [--server URL] [--output FILE] [--namespace NS] [--token-duration D]")
		os.Exit(2)
	}
	o.name = fs.Arg(0)
	cfg, err := ctrl.GetConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubescim join: no kubeconfig for the hub (--kubeconfig or KUBECONFIG):", err)
		os.Exit(1)
	}
	out := io.Writer(os.Stdout)
	if o.output != "-" {
		f, err := os.OpenFile(o.output, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		out = f
	}
	if err := join(ctrl.SetupSignalHandler(), cfg, o, out); err != nil {
		fmt.Fprintln(os.Stderr, "kubescim join:", err)
		os.Exit(1)
	}
	if o.output != "-" {
		fmt.Fprintf(os.Stderr, "Wrote %s. In the member cluster (the namespace must exist):\n"+
			"  kubectl -n kubescim-system create secret generic kubescim-hub --from-file=kubeconfig=%s\n"+
			"  helm install kubescim charts/kubescim -n kubescim-system --set mode=member \\\n"+
			"    --set fleet.clusterName=%s --set fleet.hubKubeconfigSecret=kubescim-hub\n",
			o.output, o.output, o.name)
	}
}

// join registers o.name on the hub cfg points at and writes its kubeconfig to out. It can be
// run again: it updates what exists and issues a new token.
func join(ctx context.Context, cfg *rest.Config, o *joinOptions, out io.Writer) error {
	if errs := validation.IsDNS1123Subdomain(o.name); len(errs) > 0 {
		return fmt.Errorf("member name %q: %v", o.name, errs)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	sa := "kubescim-member-" + o.name
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: o.namespace}}
	labels := map[string]string{scimv1alpha1.ManagedByLabel: scimv1alpha1.ManagedByValue, "scim.kubescim.io/member": o.name}
	objects := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.namespace}},
		&scimv1alpha1.ScimMember{ObjectMeta: metav1.ObjectMeta{Name: o.name}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: o.namespace, Labels: labels}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: memberReaderRole}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{scimv1alpha1.GroupVersion.Group}, Resources: []string{"scimusers", "scimgroups", "scimgroupbindings"}, Verbs: []string{"get", "list", "watch"}}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa, Labels: labels}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: memberReaderRole}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: sa, Labels: labels}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{scimv1alpha1.GroupVersion.Group}, Resources: []string{"scimmembers"}, ResourceNames: []string{o.name}, Verbs: []string{"get"}},
			{APIGroups: []string{scimv1alpha1.GroupVersion.Group}, Resources: []string{"scimmembers/status"}, ResourceNames: []string{o.name}, Verbs: []string{"get", "update", "patch"}},
		}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa + "-status", Labels: labels}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: sa}},
	}
	for _, obj := range objects {
		desired := obj.DeepCopyObject().(client.Object)
		if _, err := controllerutil.CreateOrUpdate(ctx, c, obj, func() error { return copyInto(obj, desired) }); err != nil {
			return fmt.Errorf("%T %s: %w", obj, obj.GetName(), err)
		}
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	tr, err := cs.CoreV1().ServiceAccounts(o.namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(o.tokenDuration.Seconds()))}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("issuing the member's token: %w", err)
	}
	server := o.server
	if server == "" {
		server = cfg.Host
	}
	kubeconfig := clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"hub": {Server: server, CertificateAuthorityData: caData(cfg)}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{sa: {Token: tr.Status.Token}},
		Contexts:       map[string]*clientcmdapi.Context{"hub": {Cluster: "hub", AuthInfo: sa}},
		CurrentContext: "hub",
	}
	data, err := clientcmd.Write(kubeconfig)
	if err != nil {
		return err
	}
	_, err = out.Write(data)
	return err
}

// copyInto sets the fields join owns on obj (as read from the hub) from desired.
func copyInto(obj, desired client.Object) error {
	if l := desired.GetLabels(); l != nil {
		merged := obj.GetLabels()
		if merged == nil {
			merged = map[string]string{}
		}
		for k, v := range l {
			merged[k] = v
		}
		obj.SetLabels(merged)
	}
	switch o := obj.(type) {
	case *rbacv1.ClusterRole:
		o.Rules = desired.(*rbacv1.ClusterRole).Rules
	case *rbacv1.ClusterRoleBinding: // roleRef is immutable, and join never changes it
		o.Subjects = desired.(*rbacv1.ClusterRoleBinding).Subjects
	}
	return nil
}

// caData is the hub's CA bundle from cfg.
func caData(cfg *rest.Config) []byte {
	if len(cfg.CAData) > 0 {
		return cfg.CAData
	}
	if cfg.CAFile != "" {
		if data, err := os.ReadFile(cfg.CAFile); err == nil {
			return data
		}
	}
	return nil
}
