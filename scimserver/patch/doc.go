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

// Package patch implements SCIM PATCH (RFC 7644 §3.5.2) on resource maps: decoding PatchOp
// requests, applying operations all-or-nothing with the request shapes Microsoft Entra ID
// and Okta send, and splitting Group membership operations off so that they can be applied
// without loading a group's member list.
package patch
