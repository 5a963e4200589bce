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

// Package e2e holds kubescim's end-to-end tests. They run on a dev cluster (hack/devcluster:
// kube-apiserver, etcd and kube-controller-manager), so garbage collection, namespace deletion
// and the aggregated ClusterRoles behave as on a real cluster, and they prove access through the
// API server's own authorizer. walkthrough_test.go runs the README's quick start against the
// real kubescim binary; access_test.go runs the controllers in-process; chart_test.go installs
// the Helm chart and runs each component as the chart's own ServiceAccount.
package e2e
