package zhandle

import (
	"bytes"
	"runtime"
	"strconv"
)

// goid returns the id of the calling goroutine. Close uses it to tell
// whether it runs on the completion goroutine, the check adaptor_finish
// makes with pthread_self in mt_adaptor.c; it is not on any hot path.
func goid() uint64 {
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
