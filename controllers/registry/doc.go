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

// Package registry keeps the hub's view of its fleet honest. Each member reports to its
// ScimMember on the hub every heartbeat (controllers/fleet), setting HubConnected True; a member
// that dies or is cut off stops writing, and without this package its last report would say
// "connected" forever. The registry runs wherever the controllers run outside member mode (a
// hub, or a standalone cluster, where no ScimMember exists and it costs one idle watch): for
// each ScimMember it sets HubConnected False, reason MemberSilent, once the member has not
// reported for three of its heartbeats (status.heartbeat), and NeverConnected while a joined
// member has never reported. It waits for that moment with RequeueAfter, never by polling, and
// leaves setting True to the member's next report.
//
// Every replica runs it: a transition is one status patch under optimistic concurrency, so when
// replicas race exactly one write wins, and only the winner records the Event.
package registry
