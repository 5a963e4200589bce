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

package devcluster

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// AggregatedRoles are the ClusterRoles whose rules kube-controller-manager's
// clusterrole-aggregation controller fills; kubescim binds them by default.
var AggregatedRoles = []string{"view", "edit", "admin"}

// waitForAggregatedRoles returns once every role in AggregatedRoles has rules, or with an error
// when ctx ends first or kube-controller-manager exits.
func waitForAggregatedRoles(ctx context.Context, cfg *rest.Config, kcm *controllerManager) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		missing, err := rolesWithoutRules(ctx, cs)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-kcm.exited:
			return kcm.exitError()
		case <-ctx.Done():
			return fmt.Errorf("waiting for kube-controller-manager to aggregate ClusterRoles %v (log: %s): %w",
				missing, kcm.logPath, ctx.Err())
		case <-tick.C:
		}
	}
}

func rolesWithoutRules(ctx context.Context, cs kubernetes.Interface) ([]string, error) {
	var missing []string
	for _, name := range AggregatedRoles {
		role, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, name) // the API server's RBAC bootstrap has not run yet
		case err != nil:
			return nil, fmt.Errorf("reading ClusterRole %s: %w", name, err)
		case len(role.Rules) == 0:
			missing = append(missing, name)
		}
	}
	return missing, nil
}
