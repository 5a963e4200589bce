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

// Package schema holds the SCIM 2.0 schemas served by kubescim (RFC 7643 §4, §8.7) and the
// operations that depend only on them: resolving attribute paths, normalising incoming
// resources, projecting responses (attributes= / excludedAttributes=) and the discovery
// documents. Resources are JSON maps as produced by encoding/json; core attributes live at
// the top level, extension attributes under their schema URN key.
package schema
