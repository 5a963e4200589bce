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

package registry

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Permitted reports whether this process's identity may do what the registry does (watch
// ScimMembers, patch their status). RBAC older than the registry, as the single-Deployment
// chart's during an upgrade, lacks it: the registry then stays off rather than leave an informer
// that never syncs, which would keep the controllers from ever becoming ready.
func Permitted(ctx context.Context, cfg *rest.Config) (bool, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return false, err
	}
	for _, attrs := range []authorizationv1.ResourceAttributes{
		{Group: scimv1.GroupVersion.Group, Resource: "scimmembers", Verb: "list"},
		{Group: scimv1.GroupVersion.Group, Resource: "scimmembers", Verb: "watch"},
		{Group: scimv1.GroupVersion.Group, Resource: "scimmembers", Subresource: "status", Verb: "patch"},
	} {
		review, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}, metav1.CreateOptions{})
		if err != nil {
			return false, fmt.Errorf("asking whether this identity may %s %s: %w", attrs.Verb, attrs.Resource, err)
		}
		if !review.Status.Allowed {
			return false, nil
		}
	}
	return true, nil
}
