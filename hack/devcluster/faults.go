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

import "fmt"

// Faults for end-to-end tests: kube-apiserver and etcd can be stopped and started again, as in
// a control plane upgrade or an etcd outage. A restarted process keeps its address, certificates
// and data, so clients reconnect without any change.

// StopAPIServer stops kube-apiserver (SIGTERM, then its graceful shutdown) and waits for it to
// exit. etcd keeps running.
func (c *Cluster) StopAPIServer() error {
	if err := c.env.ControlPlane.GetAPIServer().Stop(); err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	return nil
}

// StartAPIServer starts kube-apiserver again and waits until it reports healthy, which needs
// etcd to be running.
func (c *Cluster) StartAPIServer() error {
	if err := c.env.ControlPlane.GetAPIServer().Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver: %w", err)
	}
	return nil
}

// StopEtcd stops etcd and waits for it to exit. kube-apiserver keeps running and answers
// requests that need etcd with errors or timeouts.
func (c *Cluster) StopEtcd() error {
	if err := c.env.ControlPlane.Etcd.Stop(); err != nil {
		return fmt.Errorf("stopping etcd: %w", err)
	}
	return nil
}

// StartEtcd starts etcd again on the same address and data, and waits until it is healthy.
func (c *Cluster) StartEtcd() error {
	if err := c.env.ControlPlane.Etcd.Start(); err != nil {
		return fmt.Errorf("starting etcd: %w", err)
	}
	return nil
}
