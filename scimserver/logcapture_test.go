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
	"fmt"
	"strings"
	"sync"

	"github.com/go-logr/logr"
)

// logLine is one line a logCapture recorded.
type logLine struct {
	level  int  // V level of an info line
	isErr  bool // logged with Error
	msg    string
	values map[string]string // key/values, rendered with %v
}

// logCapture is a logr sink that records every line, for tests that check what is logged and
// at which level.
type logCapture struct {
	mu    sync.Mutex
	lines []logLine
}

func (c *logCapture) logger() logr.Logger { return logr.New(&captureSink{c: c}) }

// all returns the lines recorded so far.
func (c *logCapture) all() []logLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]logLine(nil), c.lines...)
}

// String renders the lines for test failures.
func (c *logCapture) String() string {
	var b strings.Builder
	for _, l := range c.all() {
		fmt.Fprintf(&b, "level=%d error=%t %q %v\n", l.level, l.isErr, l.msg, l.values)
	}
	return b.String()
}

type captureSink struct {
	c      *logCapture
	values []any
}

func (s *captureSink) Init(logr.RuntimeInfo)        {}
func (s *captureSink) Enabled(int) bool             { return true }
func (s *captureSink) WithName(string) logr.LogSink { return s }
func (s *captureSink) WithValues(kv ...any) logr.LogSink {
	return &captureSink{c: s.c, values: append(append([]any(nil), s.values...), kv...)}
}
func (s *captureSink) Info(level int, msg string, kv ...any) { s.record(level, false, msg, kv) }
func (s *captureSink) Error(err error, msg string, kv ...any) {
	if err != nil {
		kv = append(kv, "error", err.Error())
	}
	s.record(0, true, msg, kv)
}

func (s *captureSink) record(level int, isErr bool, msg string, kv []any) {
	all := append(append([]any(nil), s.values...), kv...)
	values := map[string]string{}
	for i := 0; i+1 < len(all); i += 2 {
		values[fmt.Sprint(all[i])] = fmt.Sprint(all[i+1])
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.lines = append(s.c.lines, logLine{level: level, isErr: isErr, msg: msg, values: values})
}
