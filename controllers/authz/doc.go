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

// Package authz is kubescim's authorization webhook: it answers the API server's
// SubjectAccessReviews (authorization.k8s.io/v1) from the controllers' cache, so that a user
// kubescim knows to be deactivated or deleted is denied at the authorizer the moment the cache
// sees it, whatever the number of RoleBindings still to rewrite behind it.
//
// It can never grant: every answer is either "denied" or "no opinion" (allowed and denied both
// false), and the API server's next authorizer (RBAC) decides the rest. It denies only
//   - a User subject (the name kubescim binds, prefix included) whose ScimUsers are all inactive
//     or being deleted,
//   - a User subject that a kubescim-managed RoleBinding or ClusterRoleBinding still names but
//     that no ScimUser stands behind any more (deleted or renamed: the bindings lag behind),
//   - with per-user ServiceAccounts, the ServiceAccount identity of such a user
//     (system:serviceaccount:<namespace>:<ScimUser name>, in the ServiceAccount namespace only).
//
// Every other subject gets no opinion: system:* users (other than those ServiceAccounts),
// groups, and every name kubescim does not manage. Answers come from the live cache on every
// request; nothing is remembered, so a reactivated user gets no opinion again at once.
//
// The webhook runs on every replica of the controllers component (not only the leader) on its
// own TLS listener, separate from the SCIM server, and accepts only callers that present a
// client certificate signed by the configured CA or the configured bearer token.
package authz
