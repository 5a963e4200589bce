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
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/rest"

	"github.com/kubescim/kubescim/hack/devcluster"
)

// runDevFleet runs `kubescim dev --members N`: the dev cluster as a fleet's hub (SCIM server and
// its own controllers, as c says) and N member control planes, each registered with kubescim
// join and running kubescim in member mode, all in this process.
func runDevFleet(ctx context.Context, c *config, hub *rest.Config, configDir string) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return run(ctx, c, hub) })
	for i := 1; i <= c.devMembers; i++ {
		name := fmt.Sprintf("member-%d", i)
		dir := filepath.Join(c.devDir, name)
		member, err := devcluster.Start(ctx, devcluster.Options{Dir: dir, CRDDirs: []string{filepath.Join(configDir, "crd", "bases")}, ControllerManager: true})
		if err != nil {
			return fmt.Errorf("starting member %s: %w", name, err)
		}
		defer func() { _ = member.Stop() }()
		if err := member.ApplyDir(ctx, filepath.Join(configDir, "samples")); err != nil {
			return fmt.Errorf("applying samples to %s: %w", name, err)
		}
		hubKubeconfig := filepath.Join(dir, "hub-kubeconfig")
		f, err := os.OpenFile(hubKubeconfig, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		err = join(ctx, hub, &joinOptions{name: name, namespace: "kubescim-fleet", tokenDuration: 24 * time.Hour}, f)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("joining %s to the hub: %w", name, err)
		}
		mc := memberConfig(c, name, hubKubeconfig)
		if err := mc.complete(); err != nil {
			return err
		}
		g.Go(func() error { return run(ctx, mc, member.Config) })
		fmt.Printf("  Member %s: kubectl --kubeconfig %s auth can-i create deployments -n team-a --as alice@example.com\n",
			name, member.KubeconfigPath)
	}
	fmt.Printf("  The dev cluster is the fleet's hub: one SCIM push grants and revokes in every member.\n" +
		"  kubectl get scimmembers (on the hub) shows each member's health.\n")
	return g.Wait()
}

// memberConfig is the configuration of a dev member: the controllers component in member mode,
// with the hub's dev settings otherwise.
func memberConfig(hub *config, name, hubKubeconfig string) *config {
	mc := *hub
	mc.componentList = "controllers"
	mc.hubKubeconfig = hubKubeconfig
	mc.fleet.ClusterName = name
	mc.fleet.Heartbeat = 2 * time.Second
	mc.authz.BindAddress = "0" // the members' API servers run RBAC alone
	mc.leaderElect = false
	return &mc
}
