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
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/controllers/authz"
	"github.com/kubescim/kubescim/hack/devcluster"
)

// runDev starts an embedded control plane, installs the CRDs and samples, writes a kubeconfig
// and a SCIM token into the dev directory, and runs the operator against it: the same code path
// as in a cluster, with dev mode supplying only the control plane.
func runDev(ctx context.Context, c *config) error {
	if err := os.MkdirAll(c.devDir, 0o700); err != nil {
		return err
	}
	configDir, err := findConfigDir()
	if err != nil {
		return err
	}
	opts := devcluster.Options{
		Dir:               c.devDir,
		CRDDirs:           []string{filepath.Join(configDir, "crd", "bases")},
		ControllerManager: true,
	}
	if c.authzWebhookEnabled() {
		opts.AuthzWebhook = &devcluster.AuthzWebhook{Address: c.authz.BindAddress, MatchCondition: authz.MatchCondition(c.access)}
	}
	cluster, err := devcluster.Start(ctx, opts)
	if err != nil {
		return fmt.Errorf("starting dev cluster: %w", err)
	}
	defer func() { _ = cluster.Stop() }()
	if err := cluster.ApplyDir(ctx, filepath.Join(configDir, "samples")); err != nil {
		return fmt.Errorf("applying samples: %w", err)
	}
	if c.access.ServiceAccounts {
		// In a cluster the chart creates this namespace; here dev mode stands in for the chart.
		if err := createNamespace(ctx, cluster.Config, c.access.ServiceAccountNamespace); err != nil {
			return err
		}
	}
	if files := cluster.AuthzWebhook; files != nil {
		c.authz.TLSCertFile, c.authz.TLSKeyFile, c.authz.ClientCAFile = files.CertFile, files.KeyFile, files.ClientCAFile
	}
	tokenFile := filepath.Join(c.devDir, "token")
	if err := writeDevToken(tokenFile); err != nil {
		return err
	}
	c.scim.TokenFile = tokenFile
	if err := c.complete(); err != nil {
		return err
	}
	base := "http://" + c.scim.BindAddress + "/scim/v2"
	fmt.Printf(`kubescim dev is running; Ctrl-C stops it.
  SCIM base URL: %[1]s
  SCIM token:    %[2]s
  Try:
    curl -s -H "Authorization: Bearer $(cat %[2]s)" %[1]s/Users
    kubectl --kubeconfig %[3]s get scimusers,scimgroups,scimgroupbindings
    kubectl --kubeconfig %[3]s auth can-i create deployments -n team-a --as alice@example.com
`, base, tokenFile, cluster.KubeconfigPath)
	if cluster.AuthzWebhook != nil {
		fmt.Printf("  The API server asks kubescim's authorization webhook (https://%s%s) before RBAC:\n"+
			"  a deactivated user is denied at once, before the RoleBindings are rewritten.\n", c.authz.BindAddress, authz.Path)
	}
	if c.devMembers > 0 {
		return runDevFleet(ctx, c, cluster.Config, configDir)
	}
	return run(ctx, c, cluster.Config)
}

// findConfigDir finds the repository's config directory (CRDs and samples) from the working
// directory or the kubescim binary's, so that `bin/kubescim dev` works from anywhere in a
// checkout.
func findConfigDir() (string, error) {
	dirs := []string{"."}
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(exe))
	}
	crds, err := devcluster.FindUp(filepath.Join("config", "crd", "bases"), dirs...)
	if err != nil {
		return "", fmt.Errorf("kubescim dev runs in a kubescim checkout: %w", err)
	}
	return filepath.Dir(filepath.Dir(crds)), nil
}

// createNamespace creates the namespace unless it exists.
func createNamespace(ctx context.Context, cfg *rest.Config, name string) error {
	cl, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := cl.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// writeDevToken writes a fresh random bearer token, readable by the owner only.
func writeDevToken(path string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600)
}
