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
// Package fleet runs kubescim's controllers in a member cluster of a fleet. One hub cluster
// runs the SCIM front end and holds the ScimUsers and ScimGroups; each member pulls them through
// a kubeconfig to the hub (outbound access to the hub's API server only) and mirrors them into
// its own API server, where the ordinary controllers turn them into RBAC with the member's own
// ScimGroupBindings. The Kubernetes API is the whole transport: a watch on the hub, one write in
// the member per identity change.
//
//   - Mirror (mirror.go): for every hub ScimUser and ScimGroup, a copy of its spec, labels and
//     SCIM annotations in the member, labelled scim.kubescim.io/mirrored=<cluster name> and
//     annotated with the hub resourceVersion it was made from. A copy is never overwritten by
//     an older hub version, so a cache that lags after a reconnect cannot bring back what the
//     hub has revoked. Copies whose hub object is gone are deleted, after a live read confirms.
//   - Contact (contact.go): the member reports to its ScimMember object on the hub every
//     heartbeat (the only hub write, one per member per interval: writes grow with clusters, not
//     with users) and keeps a ScimMember of the same name in the member, with conditions
//     HubConnected and Fenced. While the hub is unreachable it probes fast; on reconnect it
//     resyncs from a live list of the hub, so changes made meanwhile apply at once. Its report
//     carries its heartbeat, from which the hub's registry (controllers/registry) tells when a
//     member that stopped reporting has gone silent.
//   - Unreachable policy: Keep leaves the last known access; Revoke (the default) deletes every
//     mirrored identity once the hub has been unreachable for the grace period, which removes
//     every grant through the ordinary controllers, and restores them from the hub's current
//     state when it answers again.
package fleet
