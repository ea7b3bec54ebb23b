// Package goid tells which goroutine is running, for the checks that
// the C client makes with pthread_self (adaptor_finish in mt_adaptor.c):
// a Close called from a callback must not wait for the goroutine that
// runs it. It reads the header of runtime.Stack and is not for hot paths.
package goid

import (
	"bytes"
	"runtime"
	"strconv"
)

// Current returns the id of the calling goroutine, as stack dumps print
// it ("goroutine 20 [running]:"), or 0 if the header cannot be read.
func Current() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return 0
	}
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0
	}
	return id
}
