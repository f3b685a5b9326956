//go:build linux

package engine

import (
	"syscall"
	"unsafe"

	"github.com/qualitymon/qualitymon/internal/evaluate"
)

// newEvaluations allocates n evaluations, asking the kernel for huge pages
// for the memory (transparent huge pages in madvise mode, the usual
// default, give none to Go's heap otherwise): at 300,000 evaluations
// (~150 MB) the 4 KiB page faults of the fresh memory cost more than
// copying into it.
func newEvaluations(n int) []evaluate.Evaluation {
	s := make([]evaluate.Evaluation, n)
	if n == 0 {
		return s
	}
	const huge = 2 << 20
	size := uintptr(n) * unsafe.Sizeof(s[0])
	if size < 4*huge {
		return s
	}
	p := uintptr(unsafe.Pointer(&s[0]))
	lo, hi := (p+huge-1)&^(huge-1), (p+size)&^(huge-1)
	if hi > lo {
		// Only a hint: on an error the memory is used as it is.
		mem := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(&s[0]), lo-p)), hi-lo)
		_ = syscall.Madvise(mem, syscall.MADV_HUGEPAGE)
	}
	return s
}
