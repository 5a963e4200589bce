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
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
)

// memoryLimitEnv holds the container's memory limit in bytes; the chart fills it from the
// downward API (resourceFieldRef limits.memory).
const memoryLimitEnv = "KUBESCIM_MEMORY_LIMIT"

// memoryLimitRatio of the container's limit becomes the Go runtime's soft memory limit: the
// garbage collector works harder as the heap nears it, and the rest is headroom for what the
// runtime does not count, so a burst of SCIM traffic costs CPU rather than an OOM kill.
const memoryLimitRatio = 0.9

// setMemoryLimit applies memoryLimitRatio of $KUBESCIM_MEMORY_LIMIT as the soft memory limit
// and returns it, or 0 when it sets nothing: GOMEMLIMIT, if set, wins (the runtime has applied
// it already), and without a container limit the downward API reports the node's memory.
func setMemoryLimit(getenv func(string) string) (int64, error) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	raw := getenv(memoryLimitEnv)
	if raw == "" {
		return 0, nil
	}
	limit, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || limit <= 0 {
		return 0, fmt.Errorf("%s must be a number of bytes, got %q", memoryLimitEnv, raw)
	}
	soft := int64(float64(limit) * memoryLimitRatio)
	debug.SetMemoryLimit(soft)
	return soft, nil
}

// applyMemoryLimit is setMemoryLimit on the process environment.
func applyMemoryLimit() (int64, error) { return setMemoryLimit(os.Getenv) }
