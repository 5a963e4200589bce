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

// Package store is the SCIM server's storage: a small typed repository of ScimUsers and
// ScimGroups (Repository). It reads from the manager's cache through the v1alpha1 indexes,
// reading through to the API server when a lookup misses (another replica's write the cache
// has not seen yet), and writes through the API server with optimistic concurrency: the
// resourceVersion is the version a caller's preconditions name, conflicts are retried with
// client-go's backoff, and every write waits until this replica's cache holds it
// (read-your-writes), woken by informer events. The same events keep each kind's default list
// order (order.go), so that a list page reads only its own objects from the cache.
//
// It speaks Kubernetes, not HTTP or SCIM JSON: its refusals are typed (*Error with a Reason),
// API server errors are passed on as they are, and scimserver maps both to SCIM errors in one
// place. Dependencies run one way: scimserver -> store -> api/v1alpha1 + controller-runtime.
package store
