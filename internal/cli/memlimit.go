package cli

import (
	"os"
	"runtime/debug"
)

// softMemoryLimit sets Go's soft memory limit (runtime/debug.SetMemoryLimit)
// to limit bytes, unless GOMEMLIMIT is set (it wins) or limit is negative
// (none).
func softMemoryLimit(limit int64) {
	if limit >= 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}
