package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/zkloop/zkloop/zhandle"
)

// cmdStats prints the handle's counters (zhandle.Handle.Stats), one per
// line, as zkCli.sh prints a Stat.
func cmdStats(_ context.Context, s *shell, h *zhandle.Handle, _ opts) error {
	st := h.Stats()
	fmt.Fprintf(s.out, "requestsSent = %d\nrepliesReceived = %d\nbytesSent = %d\nbytesReceived = %d\n"+
		"reconnects = %d\npingRTT = %v\npending = %d\noutstanding = %d\nserver = %s\n",
		st.RequestsSent, st.RepliesReceived, st.BytesSent, st.BytesReceived,
		st.Reconnects, st.PingRTT, st.Pending, st.Outstanding, st.Server)
	return nil
}

// requestPrinter is -trace's tracer: a line per request on stderr once it
// ends, with its latency and outcome:
//
//	trace: getData /app 0.214 ms ok
//	trace: create /app 1.051 ms NodeExists
//
// It runs on the handle's I/O goroutine; a terminal takes a line at once.
type requestPrinter struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *requestPrinter) TraceRequestStart(zhandle.RequestStart) {}

func (p *requestPrinter) TraceRequestEnd(e zhandle.RequestEnd) {
	outcome := "ok"
	var code zhandle.Error
	switch {
	case errors.As(e.Err, &code) && keeperMessages[code] != "":
		outcome = keeperMessages[code] // Java's name: NoNode, ConnectionLoss, ...
	case e.Err != nil:
		outcome = e.Err.Error()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "trace: %v %s %.3f ms %s\n", e.Op, e.Path, float64(e.Duration)/float64(time.Millisecond), outcome)
}
