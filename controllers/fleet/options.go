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
package fleet

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Defaults.
const (
	DefaultGracePeriod = 5 * time.Minute
	DefaultHeartbeat   = 10 * time.Second
	// probeInterval is how often a member that lost the hub tries again, so that a reconnect is
	// noticed (and the revocations made meanwhile applied) within a second.
	probeInterval = 250 * time.Millisecond
)

// Options configure member mode.
type Options struct {
	// ClusterName is the member's name in the fleet: its ScimMember on the hub.
	ClusterName string
	// Hub is how to reach the hub's API server.
	Hub *rest.Config
	// Unreachable is what happens while the hub cannot be reached (default Revoke).
	Unreachable scimv1.UnreachablePolicy
	// GracePeriod is how long the hub may be unreachable before Revoke applies.
	GracePeriod time.Duration
	// Heartbeat is how often the member reports to the hub while connected.
	Heartbeat time.Duration
}

func (o Options) withDefaults() Options {
	if o.Unreachable == "" {
		o.Unreachable = scimv1.UnreachableRevoke
	}
	if o.GracePeriod == 0 {
		o.GracePeriod = DefaultGracePeriod
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	return o
}

func (o Options) validate() error {
	if o.Hub == nil {
		return errors.New("member mode needs the hub's kubeconfig")
	}
	if errs := validation.IsDNS1123Subdomain(o.ClusterName); len(errs) > 0 {
		return fmt.Errorf("cluster name %q: %v", o.ClusterName, errs)
	}
	switch o.Unreachable {
	case scimv1.UnreachableKeep, scimv1.UnreachableRevoke:
	default:
		return fmt.Errorf("unreachable policy %q: want Keep or Revoke", o.Unreachable)
	}
	if o.GracePeriod < 0 || o.Heartbeat < 0 {
		return errors.New("grace period and heartbeat must not be negative")
	}
	return nil
}
