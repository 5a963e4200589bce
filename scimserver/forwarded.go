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
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Headers a reverse proxy sets; read only with Options.TrustForwardedHeaders.
const (
	headerForwardedProto = "X-Forwarded-Proto"
	headerForwardedHost  = "X-Forwarded-Host"
	headerForwardedFor   = "X-Forwarded-For"
)

// baseURL is the absolute URL of BasePath, for meta.location and $ref: Options.ExternalURL when
// set (the request's Host is then irrelevant); else the request's scheme and Host, overridden
// by X-Forwarded-Proto and X-Forwarded-Host only when the proxy in front is trusted. Without
// that, any client could make the server hand out locations on a host of its choosing.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.ExternalURL != "" {
		return strings.TrimRight(s.opts.ExternalURL, "/") + BasePath
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if s.opts.TrustForwardedHeaders {
		if p := strings.ToLower(lastForwarded(r.Header, headerForwardedProto)); p == "https" || p == "http" {
			scheme = p
		}
		if h := lastForwarded(r.Header, headerForwardedHost); validHost(h) {
			host = h
		}
	}
	return scheme + "://" + host + BasePath
}

// clientAddress is the address failed authentications are counted against: the peer of the
// connection, or the client the trusted proxy reports in X-Forwarded-For. IPv6 addresses count
// by /64, the block one host usually controls.
func (s *Server) clientAddress(r *http.Request) string {
	raw := ""
	if s.opts.TrustForwardedHeaders {
		raw = lastForwarded(r.Header, headerForwardedFor)
	}
	if raw == "" {
		raw = r.RemoteAddr
		if host, _, err := net.SplitHostPort(raw); err == nil {
			raw = host
		}
	}
	addr, err := netip.ParseAddr(raw)
	if err != nil {
		return raw
	}
	addr = addr.Unmap()
	if addr.Is6() {
		prefix, _ := addr.Prefix(64)
		return prefix.String()
	}
	return addr.String()
}

// lastForwarded returns the last value of a forwarded header: the one the proxy next to
// kubescim set, when clients or earlier proxies added others before it.
func lastForwarded(h http.Header, name string) string {
	values := h.Values(name)
	if len(values) == 0 {
		return ""
	}
	list := strings.Split(values[len(values)-1], ",")
	return strings.TrimSpace(list[len(list)-1])
}

// validHost accepts host or host:port, nothing that could change the URL's meaning.
func validHost(h string) bool {
	return h != "" && len(h) <= 255 && !strings.ContainsAny(h, "/\\@?#% \t\"<>")
}
