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

// Package scimserver is kubescim's embedded SCIM 2.0 server (RFC 7643, RFC 7644). Identity
// providers push users and groups to it; it stores them as ScimUser and ScimGroup specs. It
// never writes status or RBAC objects, which belong to the controllers.
//
// The package speaks SCIM over HTTP: routing, authentication and limits, filters (filter/) and
// PATCH (patch/), the SCIM <-> CR mapping (convert*.go) and errors. Storage is behind a seam:
// the handlers store users and groups only through store.Repository (scimserver/store), which
// reads the manager's cache, reads through to the API server on a miss, and writes through
// the API server with optimistic concurrency. The store's typed refusals and the API server's
// errors become SCIM errors in one place, errors.go.
//
//	handlers (users.go, groups.go, bulk.go, list.go)
//	    |  store.Repository: GetUser, ListGroups, CreateUser, UpdateGroup, ChangeMembers, ...
//	    v
//	store: read-through, conflict retries, member changes, read-your-writes
//	    v
//	manager cache + API server
package scimserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/kubescim/kubescim/scimserver/filter"
	"github.com/kubescim/kubescim/scimserver/store"
)

// +kubebuilder:rbac:groups=scim.kubescim.io,resources=scimusers;scimgroups,verbs=get;list;watch;create;update;patch;delete

// BasePath is where the SCIM API is served.
const BasePath = "/scim/v2"

const (
	// FieldManager is the field manager of SCIM writes.
	FieldManager = "kubescim-scim"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxBodyBytes          = 1 << 20
	DefaultMaxPatchOperations    = 1000
	DefaultMaxBulkOperations     = 1000
	DefaultMaxResults            = 1000
	DefaultMaxFilterLength       = 4096
	DefaultMaxSearchFilterLength = filter.MaxFilterLength
	DefaultFailedAuthRate        = 1
	DefaultFailedAuthBurst       = 10
	DefaultShutdownTimeout       = 25 * time.Second
)

// HTTP server limits. A query string longer than MaxQueryBytes gets a SCIM 414 pointing to
// POST .search; maxHeaderBytes is far above it, so only a request line or headers beyond
// 256 KiB meet Go's own plain-text 431.
const (
	MaxQueryBytes  = 8 << 10
	maxHeaderBytes = 256 << 10
	writeTimeout   = 60 * time.Second
)

// Options configure the SCIM server.
type Options struct {
	// BindAddress is the listen address, e.g. ":8080" or "127.0.0.1:0".
	BindAddress string
	// TokenFile holds bearer tokens, one "name:token" (or "name=token") per line, or a single bare
	// token (named "default"). It is reloaded when it changes.
	TokenFile string
	// TokenSecret optionally names a Secret whose data keys are token names and values tokens.
	// It is watched: adding or removing a token takes effect without a restart.
	TokenSecret types.NamespacedName
	// TLSCertFile and TLSKeyFile enable TLS; both files are reloaded when they change.
	TLSCertFile, TLSKeyFile string
	// MaxBodyBytes limits request bodies (default 1 MiB); larger requests get 413 tooLarge.
	MaxBodyBytes int64
	// RateLimit is the number of requests per second allowed per token (0 = unlimited); excess
	// requests get 429 with Retry-After.
	RateLimit float64
	// RateBurst is the burst allowed above RateLimit (default: max(1, RateLimit)).
	RateBurst int
	// FailedAuthRate is the number of failed authentications per second allowed per client
	// address (default 1), FailedAuthBurst the burst above it (default 10). Beyond them the
	// address gets 429 with Retry-After, whatever token it sends, so tokens cannot be guessed
	// at line rate.
	FailedAuthRate  float64
	FailedAuthBurst int
	// MaxPatchOperations limits the operations of one PATCH request (default 1000).
	MaxPatchOperations int
	// MaxBulkOperations limits the operations of one /Bulk request (default 1000). With a rate
	// limit, the advertised and enforced maximum is the smaller of it and RateBurst, as each
	// operation counts as one request.
	MaxBulkOperations int
	// MaxResults is the largest page a list returns (default 1000); count is clamped to it.
	MaxResults int
	// MaxFilterLength limits the length of a filter in a GET query string (default 4096).
	MaxFilterLength int
	// MaxSearchFilterLength limits the length of a filter in a POST .search body (default and
	// most: filter.MaxFilterLength, 16 KiB; never more than MaxBodyBytes).
	MaxSearchFilterLength int
	// ExternalURL is the base for meta.location and $ref (e.g. https://scim.example.com); by
	// default it is derived from the request's scheme and Host.
	ExternalURL string
	// TrustForwardedHeaders makes the server believe X-Forwarded-Proto, X-Forwarded-Host (for
	// meta.location when ExternalURL is empty) and X-Forwarded-For (the client address failed
	// authentications are counted against). Turn it on only when every request reaches the
	// server through a proxy that sets them.
	TrustForwardedHeaders bool

	// ShutdownDelay is how long the server keeps serving once its context is done, with
	// ReadyCheck already failing, so that Services and load balancers stop sending requests
	// before the listener closes.
	ShutdownDelay time.Duration
	// ShutdownTimeout bounds a shutdown, the delay included: requests still running then are
	// answered 503 with Retry-After. Default 25s, under Kubernetes' default grace period of 30s.
	ShutdownTimeout time.Duration
}

// Server is the SCIM HTTP server. It implements manager.Runnable.
type Server struct {
	opts Options
	// repo stores users and groups: the handlers' only way to the cache and the API server.
	repo      store.Repository
	waitCache func(context.Context) bool
	informers cache.Informers // the manager's cache, whose events keep the list order and wake writers (store.FollowCacheEvents)
	tokens    *tokenStore
	// tokenFileContent is the token file as New loaded it; Start watches it from there, so a
	// refused token is logged once, not again at start.
	tokenFileContent []byte
	limiter          *rateLimiters
	failures         *failedAuthLimiter
	handler          http.Handler
	log              logr.Logger
	now              func() time.Time // the clock; tests move it to run out a bulk request's time

	// Lifecycle (lifecycle.go): the HTTP server, and whether requests are let through.
	mu       sync.Mutex
	addr     string
	srv      *http.Server
	ln       net.Listener
	certs    *certwatcher.CertWatcher
	ready    atomic.Bool // tokens loaded and cache synced
	draining atomic.Bool // shutting down: ReadyCheck fails
	inFlight atomic.Int64
	// aborted ends at the shutdown deadline: requests still running are answered 503.
	aborted context.Context
	abort   context.CancelFunc
}

var _ manager.Runnable = &Server{}
var _ manager.LeaderElectionRunnable = &Server{}

// New creates a SCIM server reading through mgr's cache. It does not register field indexes:
// the caller runs v1alpha1.SetupIndexes once. With a TokenSecret, mgr's cache must be restricted
// to it with CacheByObject(opts).
func New(mgr manager.Manager, opts Options) (*Server, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxPatchOperations <= 0 {
		opts.MaxPatchOperations = DefaultMaxPatchOperations
	}
	if opts.MaxResults <= 0 {
		opts.MaxResults = DefaultMaxResults
	}
	if opts.MaxBulkOperations <= 0 {
		opts.MaxBulkOperations = DefaultMaxBulkOperations
	}
	if opts.MaxFilterLength <= 0 {
		opts.MaxFilterLength = DefaultMaxFilterLength
	}
	if opts.MaxSearchFilterLength <= 0 || opts.MaxSearchFilterLength > filter.MaxFilterLength {
		opts.MaxSearchFilterLength = DefaultMaxSearchFilterLength
	}
	opts.MaxSearchFilterLength = int(min(int64(opts.MaxSearchFilterLength), opts.MaxBodyBytes))
	if opts.FailedAuthRate <= 0 {
		opts.FailedAuthRate = DefaultFailedAuthRate
	}
	if opts.FailedAuthBurst <= 0 {
		opts.FailedAuthBurst = DefaultFailedAuthBurst
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.ShutdownDelay < 0 || opts.ShutdownDelay >= opts.ShutdownTimeout {
		return nil, fmt.Errorf("ShutdownDelay (%s) must be at least 0 and shorter than ShutdownTimeout (%s)", opts.ShutdownDelay, opts.ShutdownTimeout)
	}
	if (opts.TLSCertFile == "") != (opts.TLSKeyFile == "") {
		return nil, errors.New("TLSCertFile and TLSKeyFile must be set together")
	}
	if opts.TokenFile == "" && opts.TokenSecret.Name == "" {
		return nil, errors.New("no bearer token source: set TokenFile or TokenSecret")
	}
	s := &Server{
		opts: opts,
		repo: store.New(store.Clients{
			Cache:  mgr.GetCache(),
			Live:   mgr.GetAPIReader(),
			Writer: client.WithFieldOwner(mgr.GetClient(), FieldManager),
		}),
		waitCache: mgr.GetCache().WaitForCacheSync,
		informers: mgr.GetCache(),
		tokens:    newTokenStore(),
		limiter:   newRateLimiters(opts.RateLimit, opts.RateBurst),
		failures:  newFailedAuthLimiter(opts.FailedAuthRate, opts.FailedAuthBurst, maxTrackedAddresses),
		log:       mgr.GetLogger().WithName("scimserver"),
		now:       time.Now,
	}
	registerMetrics()
	if opts.TokenFile != "" {
		content, err := s.loadTokenFile(s.log)
		if err != nil {
			return nil, err
		}
		s.tokenFileContent = content
	}
	s.handler = s.buildHandler()
	s.aborted, s.abort = context.WithCancel(context.Background())
	return s, nil
}

// NeedLeaderElection returns false: every replica serves SCIM.
func (s *Server) NeedLeaderElection() bool { return false }

// Handler returns the SCIM HTTP handler (for tests with httptest). Tokens from TokenSecret are
// only loaded once Start runs.
func (s *Server) Handler() http.Handler { return s.handler }

// Addr returns the address the server listens on once it serves SCIM (its tokens are loaded and
// the cache has synced), else "".
func (s *Server) Addr() string {
	if !s.ready.Load() {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Start loads the tokens, waits for the cache to sync and then lets SCIM requests through; when
// ctx is done it drains (see drain). It serves SCIM itself unless AddToManager has already
// started the listener with the manager's HTTP servers.
func (s *Server) Start(ctx context.Context) error {
	ctx = ctrl.LoggerInto(ctx, s.log)
	log := s.log
	served := make(chan error, 1)
	if s.srv == nil {
		if err := s.listen(); err != nil {
			return err
		}
		go func() { served <- s.serve() }()
	}
	if s.certs != nil {
		go func() {
			if err := s.certs.Start(ctx); err != nil {
				log.Error(err, "TLS certificate watcher stopped")
			}
		}()
	}
	if err := s.becomeReady(ctx); err != nil {
		return errors.Join(err, s.drain(log))
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serving SCIM: %w", err)
	}
	return s.drain(log)
}

// listen binds the listener and prepares the HTTP server, which answers 503 until Start has
// made the server ready.
func (s *Server) listen() error {
	ln, err := net.Listen("tcp", s.opts.BindAddress)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.opts.BindAddress, err)
	}
	if s.opts.TLSCertFile != "" {
		cw, err := certwatcher.New(s.opts.TLSCertFile, s.opts.TLSKeyFile)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("loading TLS certificate: %w", err)
		}
		s.certs = cw
		ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cw.GetCertificate})
	}
	// Request contexts do not end with the server's: a shutdown lets requests finish (drain).
	base := ctrl.LoggerInto(context.Background(), s.log)
	srv := &http.Server{
		Handler:           s.instrument(s.lifecycleHandler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	s.mu.Lock()
	s.srv, s.ln, s.addr = srv, ln, ln.Addr().String()
	s.mu.Unlock()
	s.log.Info("Listening for SCIM; answering 503 until the tokens and the cache are loaded", "address", s.addr, "tls", s.opts.TLSCertFile != "")
	return nil
}

func (s *Server) serve() error {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
