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

package store

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// CreatedAtAnnotation records when the SCIM server created an object, with the precision of
// the changed-at annotation: creationTimestamp has whole seconds only, so it could come after
// lastModified, and never equals it as RFC 7643 §3.1 wants of a new resource.
const CreatedAtAnnotation = "scim.kubescim.io/created-at"

type changedByKey struct{}

// WithChangedBy returns ctx carrying who writes (the bearer token's name), which every write
// made with it records in the changed-by annotation.
func WithChangedBy(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, changedByKey{}, name)
}

// ChangedBy returns the writer's name WithChangedBy put in ctx, or "".
func ChangedBy(ctx context.Context) string {
	name, _ := ctx.Value(changedByKey{}).(string)
	return name
}

// stamp records who changed obj and when (read by the controllers' audit log and latency metric),
// and sets the labels the read-through selects on.
func stamp(ctx context.Context, obj client.Object) {
	setLookupLabels(obj)
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[v1alpha1.ChangedAtAnnotation] = time.Now().UTC().Format(time.RFC3339Nano)
	ann[v1alpha1.ChangedByAnnotation] = ChangedBy(ctx)
	obj.SetAnnotations(ann)
}
