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

package scimserver

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/scimserver/store"
)

// testRepo returns a store over c, with the test manager's cache, live reader and writer for
// the clients c leaves unset: tests swap one of them to make the API server fail or lag.
func testRepo(c store.Clients) *store.Store {
	if c.Cache == nil {
		c.Cache = testMgr.GetCache()
	}
	if c.Live == nil {
		c.Live = testMgr.GetAPIReader()
	}
	if c.Writer == nil {
		c.Writer = client.WithFieldOwner(testMgr.GetClient(), FieldManager)
	}
	return store.New(c)
}

// memberListings counts the whole member lists s's store has read.
func memberListings(s *Server) int64 { return s.repo.(*store.Store).MemberListings() }
