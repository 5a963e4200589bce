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
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
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

// watchTokenSecret runs an informer on the one token Secret (field selector on its name), so
// the SCIM server needs only get/list/watch on that Secret (a namespaced Role with
// resourceNames), and adding or removing a token takes effect without a restart.
func (s *Server) watchTokenSecret(ctx context.Context, cfg *rest.Config) (toolscache.InformerSynced, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating clientset for the token Secret: %w", err)
	}
	key := s.opts.TokenSecret
	lw := toolscache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "secrets", key.Namespace,
		fields.OneTermEqualSelector("metadata.name", key.Name))
	informer := toolscache.NewSharedIndexInformer(lw, &corev1.Secret{}, 0, toolscache.Indexers{})
	log := ctrl.LoggerFrom(ctx).WithValues("secret", key.String())
	apply := func(obj any) {
		if secret, ok := obj.(*corev1.Secret); ok {
			log.Info("Loading tokens from Secret", "tokens", len(secret.Data))
			s.tokens.setSecret(strongTokens(log, tokenSourceSecret, secretTokens(secret.Data)))
		}
	}
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    apply,
		UpdateFunc: func(_, obj any) { apply(obj) },
		DeleteFunc: func(any) {
			log.Info("Token Secret deleted; its tokens are no longer accepted")
			s.tokens.setSecret(nil)
			tokensRejectedGauge.WithLabelValues(tokenSourceSecret).Set(0)
		},
	}); err != nil {
		return nil, fmt.Errorf("watching the token Secret: %w", err)
	}
	go informer.Run(ctx.Done())
	return informer.HasSynced, nil
}
