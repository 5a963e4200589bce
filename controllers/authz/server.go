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

package authz

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	rbacv1 "k8s.io/api/rbac/v1"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 256 << 10
	DefaultTimeout      = time.Second
)

// Options configures the webhook.
type Options struct {
	// BindAddress is the TLS listener's address, e.g. ":9443".
	BindAddress string
	// TLSCertFile and TLSKeyFile are the serving certificate; reloaded when they change.
	TLSCertFile, TLSKeyFile string
	// ClientCAFile holds the CA certificates that sign the API server's client certificate.
	ClientCAFile string
	// TokenFile holds a bearer token the API server may present instead (read at start).
	// At least one of ClientCAFile and TokenFile is required.
	TokenFile string
	// MaxBodyBytes bounds a review's size; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Timeout bounds one decision; default DefaultTimeout.
	Timeout time.Duration
	// Access is the controllers' configuration, for the subject naming.
	Access controllers.Options
}

// Server is the webhook's listener, a manager Runnable that runs on every replica.
type Server struct {
	opts    Options
	handler *handler
	tls     *tls.Config
	certs   *certwatcher.CertWatcher
	log     logr.Logger

	mu   sync.Mutex
	addr string
}

// New prepares the webhook on mgr's cache. Call it after controllers.New, which registers the
// ScimUser index it reads, and before mgr starts.
func New(mgr manager.Manager, opts Options) (*Server, error) {
	if opts.TLSCertFile == "" || opts.TLSKeyFile == "" {
		return nil, errors.New("the authorization webhook needs a TLS certificate and key")
	}
	if opts.ClientCAFile == "" && opts.TokenFile == "" {
		return nil, errors.New("the authorization webhook needs a client CA or a token file to authenticate the API server")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Access.ServiceAccountNamespace == "" {
		opts.Access.ServiceAccountNamespace = controllers.DefaultServiceAccountNamespace
	}
	h := &handler{maxBodyBytes: opts.MaxBodyBytes, timeout: opts.Timeout}
	if opts.TokenFile != "" {
		b, err := os.ReadFile(opts.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("reading the authorization webhook's token: %w", err)
		}
		if h.token = bytes.TrimSpace(b); len(h.token) == 0 {
			return nil, fmt.Errorf("the authorization webhook's token file %s is empty", opts.TokenFile)
		}
	}
	tlsConfig := serverTLS(nil)
	if opts.ClientCAFile != "" {
		pem, err := os.ReadFile(opts.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the authorization webhook's client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificates in the authorization webhook's client CA %s", opts.ClientCAFile)
		}
		tlsConfig = serverTLS(pool)
	}
	bound, err := watchBindings(mgr)
	if err != nil {
		return nil, err
	}
	h.authz = &authorizer{users: mgr.GetCache(), bound: bound, opts: opts.Access}
	registerMetrics()
	return &Server{opts: opts, handler: h, tls: tlsConfig, log: ctrl.Log.WithName("authz-webhook")}, nil
}

// serverTLS is the listener's TLS configuration with clientCAs (nil: tokens only). A client
// certificate is optional at the TLS level so that a token can be used instead, but one that is
// given must verify; the handler refuses requests with neither.
func serverTLS(clientCAs *x509.CertPool) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if clientCAs != nil {
		c.ClientCAs, c.ClientAuth = clientCAs, tls.VerifyClientCertIfGiven
	}
	return c
}

// watchBindings counts the subjects of managed bindings from the cache's informers.
func watchBindings(mgr manager.Manager) (*boundSubjects, error) {
	ctx := context.Background()
	bound := newBoundSubjects()
	var syncs []toolscache.InformerSynced
	for _, obj := range []client.Object{&rbacv1.RoleBinding{}, &rbacv1.ClusterRoleBinding{}} {
		inf, err := mgr.GetCache().GetInformer(ctx, obj)
		if err != nil {
			return nil, fmt.Errorf("getting the informer for %T: %w", obj, err)
		}
		reg, err := inf.AddEventHandler(bound.handler())
		if err != nil {
			return nil, fmt.Errorf("watching %T: %w", obj, err)
		}
		syncs = append(syncs, reg.HasSynced)
	}
	users, err := mgr.GetCache().GetInformer(ctx, &scimv1.ScimUser{})
	if err != nil {
		return nil, fmt.Errorf("getting the informer for ScimUsers: %w", err)
	}
	bound.mu.Lock()
	bound.syncs = append(syncs, users.HasSynced)
	bound.mu.Unlock()
	return bound, nil
}

// NeedLeaderElection is false: every replica answers, from its own cache.
func (s *Server) NeedLeaderElection() bool { return false }

// Addr is the listener's address once Start has bound it, else "".
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Start serves the webhook until ctx is done.
func (s *Server) Start(ctx context.Context) error {
	cw, err := certwatcher.New(s.opts.TLSCertFile, s.opts.TLSKeyFile)
	if err != nil {
		return fmt.Errorf("loading the authorization webhook's TLS certificate: %w", err)
	}
	go func() {
		if err := cw.Start(ctx); err != nil {
			s.log.Error(err, "TLS certificate watcher stopped")
		}
	}()
	tlsConfig := s.tls.Clone()
	tlsConfig.GetCertificate = cw.GetCertificate
	ln, err := net.Listen("tcp", s.opts.BindAddress)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.opts.BindAddress, err)
	}
	ln = tls.NewListener(ln, tlsConfig)
	mux := http.NewServeMux()
	mux.Handle(Path, s.handler)
	base := ctrl.LoggerInto(context.Background(), s.log)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.mu.Unlock()
	s.log.Info("Serving the authorization webhook", "address", s.addr, "clientCA", s.opts.ClientCAFile != "", "token", s.opts.TokenFile != "")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serving the authorization webhook: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// MatchCondition is the CEL expression for an AuthorizationConfiguration's matchConditions that
// sends the webhook only requests of users it may deny: names with the subject prefix (never
// system:*) and, with per-user ServiceAccounts, the ServiceAccounts in their namespace. Everyone
// else, admins and system identities included, never reaches the webhook.
func MatchCondition(opts controllers.Options) string {
	users := "!request.user.startsWith('system:')"
	if opts.SubjectPrefix != "" {
		users = "request.user.startsWith(" + strconv.Quote(opts.SubjectPrefix) + ") && " + users
	}
	if !opts.ServiceAccounts {
		return users
	}
	ns := opts.ServiceAccountNamespace
	if ns == "" {
		ns = controllers.DefaultServiceAccountNamespace
	}
	return "(" + users + ") || request.user.startsWith(" + strconv.Quote(saUserPrefix+ns+":") + ")"
}
