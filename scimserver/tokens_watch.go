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
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// tokenFilePollInterval is how often the token file is re-read. Polling (rather than inotify)
// also follows the symlink swaps of Kubernetes Secret volumes.
const tokenFilePollInterval = 2 * time.Second

// loadTokenFile reads the token file into the store; tokens shorter than minTokenLength are
// refused.
func (s *Server) loadTokenFile(log logr.Logger) ([]byte, error) {
	content, err := os.ReadFile(s.opts.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("reading token file %s: %w", s.opts.TokenFile, err)
	}
	tokens, err := parseTokenFile(content)
	if err != nil {
		return nil, fmt.Errorf("parsing token file %s: %w", s.opts.TokenFile, err)
	}
	s.tokens.setFile(strongTokens(log, tokenSourceFile, tokens))
	return content, nil
}

// watchTokenFile reloads the token file whenever its content changes, until ctx is done. A file
// that fails to parse keeps the previous tokens.
func (s *Server) watchTokenFile(ctx context.Context, last []byte) {
	log := ctrl.LoggerFrom(ctx)
	ticker := time.NewTicker(tokenFilePollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		content, err := os.ReadFile(s.opts.TokenFile)
		if err != nil || bytes.Equal(content, last) {
			continue
		}
		tokens, err := parseTokenFile(content)
		if err != nil {
			log.Error(err, "Ignoring changed token file", "file", s.opts.TokenFile)
			continue
		}
		log.Info("Reloading token file", "file", s.opts.TokenFile, "tokens", len(tokens))
		s.tokens.setFile(strongTokens(log, tokenSourceFile, tokens))
		last = content
	}
}

// The token Secret is in the release namespace ("system" is the chart's name for it); the chart
// narrows this rule to the one Secret named by --scim-token-secret.
// +kubebuilder:rbac:groups="",namespace=system,resources=secrets,verbs=get;list;watch

// CacheByObject restricts the manager's cache of Secrets to the token Secret of opts (none
// without one): the only Secret the SCIM server reads. Its Role grants get/list/watch on that
// Secret by resourceNames, which the API server allows for a list or watch only with a field
// selector on metadata.name in the Secret's namespace, as here. Merge it into the manager's
// cache.Options ByObject.
func CacheByObject(opts Options) map[client.Object]cache.ByObject {
	key := opts.TokenSecret
	if key.Name == "" {
		return nil
	}
	return map[client.Object]cache.ByObject{
		&corev1.Secret{}: {
			Namespaces: map[string]cache.Config{key.Namespace: {}},
			Field:      fields.OneTermEqualSelector("metadata.name", key.Name),
		},
	}
}

// watchTokenSecret loads the tokens of the token Secret from the manager's cache (restricted to
// that Secret by CacheByObject) and reloads them on every change, so adding or removing a token
// takes effect without a restart. The returned function reports when the Secret's first state
// (or its absence) has been loaded.
func (s *Server) watchTokenSecret(ctx context.Context) (toolscache.InformerSynced, error) {
	key := s.opts.TokenSecret
	informer, err := s.informers.GetInformer(ctx, &corev1.Secret{}, cache.BlockUntilSynced(false))
	if err != nil {
		return nil, fmt.Errorf("getting the Secret informer for the token Secret: %w", err)
	}
	log := ctrl.LoggerFrom(ctx).WithValues("secret", key.String())
	apply := func(obj any) {
		if secret, ok := obj.(*corev1.Secret); ok {
			log.Info("Loading tokens from Secret", "tokens", len(secret.Data))
			s.tokens.setSecret(strongTokens(log, tokenSourceSecret, secretTokens(secret.Data)))
		}
	}
	reg, err := informer.AddEventHandler(toolscache.FilteringResourceEventHandler{
		// The cache should hold no other Secret; should it be unrestricted, no other is a
		// token source.
		FilterFunc: func(obj any) bool { return isSecret(obj, key) },
		Handler: toolscache.ResourceEventHandlerFuncs{
			AddFunc:    apply,
			UpdateFunc: func(_, obj any) { apply(obj) },
			DeleteFunc: func(any) {
				log.Info("Token Secret deleted; its tokens are no longer accepted")
				s.tokens.setSecret(nil)
				tokensRejectedGauge.WithLabelValues(tokenSourceSecret).Set(0)
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watching the token Secret: %w", err)
	}
	return reg.HasSynced, nil
}

// isSecret reports whether an informer event's object (or the last state of a deleted one) is
// the Secret key.
func isSecret(obj any, key types.NamespacedName) bool {
	if gone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = gone.Obj
	}
	secret, ok := obj.(*corev1.Secret)
	return ok && secret.Namespace == key.Namespace && secret.Name == key.Name
}
