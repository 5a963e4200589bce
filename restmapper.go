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

package main

import (
	"net/http"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// knownKinds are the kinds kubescim caches or writes, with their scope. They are answered
// without discovery, so that the manager and its caches can be set up while the API server is
// unreachable (controller-runtime's mapper asks discovery, and setup would fail at once).
var knownKinds = []struct {
	gvk   schema.GroupVersionKind
	scope meta.RESTScope
}{
	{scimv1alpha1.GroupVersion.WithKind("ScimUser"), meta.RESTScopeRoot},
	{scimv1alpha1.GroupVersion.WithKind("ScimGroup"), meta.RESTScopeRoot},
	{scimv1alpha1.GroupVersion.WithKind("ScimGroupBinding"), meta.RESTScopeRoot},
	{scimv1alpha1.GroupVersion.WithKind("ScimMember"), meta.RESTScopeRoot},
	{rbacv1.SchemeGroupVersion.WithKind("RoleBinding"), meta.RESTScopeNamespace},
	{rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding"), meta.RESTScopeRoot},
	{rbacv1.SchemeGroupVersion.WithKind("Role"), meta.RESTScopeNamespace},
	{rbacv1.SchemeGroupVersion.WithKind("ClusterRole"), meta.RESTScopeRoot},
	{corev1.SchemeGroupVersion.WithKind("Namespace"), meta.RESTScopeRoot},
	{corev1.SchemeGroupVersion.WithKind("ServiceAccount"), meta.RESTScopeNamespace},
	{corev1.SchemeGroupVersion.WithKind("Secret"), meta.RESTScopeNamespace},
	{corev1.SchemeGroupVersion.WithKind("Event"), meta.RESTScopeNamespace},
	{eventsv1.SchemeGroupVersion.WithKind("Event"), meta.RESTScopeNamespace},
	{coordinationv1.SchemeGroupVersion.WithKind("Lease"), meta.RESTScopeNamespace},
}

// newRESTMapper is the manager's MapperProvider: known kinds from a fixed table, any other kind
// from discovery.
func newRESTMapper(cfg *rest.Config, httpClient *http.Client) (meta.RESTMapper, error) {
	discovered, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	return knownFirst{RESTMapper: discovered, known: knownMapper()}, nil
}

func knownMapper() meta.RESTMapper {
	var versions []schema.GroupVersion
	for _, k := range knownKinds {
		versions = append(versions, k.gvk.GroupVersion())
	}
	m := meta.NewDefaultRESTMapper(versions) // also answers lookups that name no version
	for _, k := range knownKinds {
		m.Add(k.gvk, k.scope)
	}
	return m
}

// knownFirst answers from known and asks the embedded (discovering) mapper only about kinds
// known does not have.
type knownFirst struct {
	meta.RESTMapper
	known meta.RESTMapper
}

func (m knownFirst) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	if mapping, err := m.known.RESTMapping(gk, versions...); err == nil {
		return mapping, nil
	}
	return m.RESTMapper.RESTMapping(gk, versions...)
}

func (m knownFirst) RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error) {
	if mappings, err := m.known.RESTMappings(gk, versions...); err == nil {
		return mappings, nil
	}
	return m.RESTMapper.RESTMappings(gk, versions...)
}

func (m knownFirst) KindFor(resource schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	if gvk, err := m.known.KindFor(resource); err == nil {
		return gvk, nil
	}
	return m.RESTMapper.KindFor(resource)
}

func (m knownFirst) ResourceFor(resource schema.GroupVersionResource) (schema.GroupVersionResource, error) {
	if gvr, err := m.known.ResourceFor(resource); err == nil {
		return gvr, nil
	}
	return m.RESTMapper.ResourceFor(resource)
}
