//go:build !race

package zhandle

import (
	"context"
	"testing"
	"time"

	"github.com/zkloop/zkloop/bench"
)

// The zero-allocation promises: against a server that answers at once
// (bench.FakeServer, itself allocation free), one call, its round trip
// through the loop and, for the async forms, its callback allocate
// nothing; Get allocates only the data it returns and Create the path. A
// tracer that does nothing changes none of it.
func TestAllocs(t *testing.T) {
	t.Run("no tracer", func(t *testing.T) { testAllocs(t) })
	t.Run("no-op tracer", func(t *testing.T) { testAllocs(t, WithTracer(nopTracer{})) })
}

// nopTracer implements every hook and does nothing.
type nopTracer struct{}

func (nopTracer) TraceRequestStart(RequestStart)    {}
func (nopTracer) TraceRequestEnd(RequestEnd)        {}
func (nopTracer) TraceConnecting(ConnEvent)         {}
func (nopTracer) TraceConnected(ConnEvent)          {}
func (nopTracer) TraceDisconnected(ConnEvent)       {}
func (nopTracer) TraceSessionState(SessionEvent)    {}
func (nopTracer) TraceWatchDelivered(WatchDelivery) {}

func testAllocs(t *testing.T, opts ...Option) {
	data := make([]byte, 100)
	srv, err := bench.NewFakeServer(data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	h := connectHandle(t, srv.Addr(), nil, sessionTimeout, opts...)

	const path = "/zkloop/alloc"
	bg := context.Background() // Done() == nil: no AfterFunc to register
	buf := make([]byte, 0, 1024)
	replied := make(chan error, 1)
	dataCB := DataCompletion(func(err error, _ []byte, _ *Stat) { replied <- err })
	statCB := StatCompletion(func(err error, _ *Stat) { replied <- err })
	timeout := time.NewTimer(time.Hour) // reset per call
	defer timeout.Stop()
	waitReply := func() { // not recv, which would allocate a timer
		timeout.Reset(waitTimeout)
		select {
		case err := <-replied:
			if err != nil {
				t.Fatal(err)
			}
		case <-timeout.C:
			t.Fatalf("no callback within %v", waitTimeout)
		}
	}
	tests := []struct {
		name string
		want float64
		call func()
	}{
		{"Get", 1, func() {
			if _, _, err := h.Get(bg, path, false); err != nil {
				t.Fatal(err)
			}
		}},
		{"GetInto", 0, func() {
			var err error
			if buf, _, err = h.GetInto(bg, path, buf, false); err != nil {
				t.Fatal(err)
			}
		}},
		{"Exists", 0, func() {
			if _, err := h.Exists(bg, path, false); err != nil {
				t.Fatal(err)
			}
		}},
		{"Set", 0, func() {
			if _, err := h.Set(bg, path, data, -1); err != nil {
				t.Fatal(err)
			}
		}},
		{"Create", 1, func() { // the path returned; the ACL list is encoded in place
			if _, err := h.Create(bg, path, data, OpenACLUnsafe, Persistent); err != nil {
				t.Fatal(err)
			}
		}},
		{"AGet", 0, func() {
			if err := h.AGet(path, false, dataCB); err != nil {
				t.Fatal(err)
			}
			waitReply()
		}},
		{"AExists", 0, func() {
			if err := h.AExists(path, false, statCB); err != nil {
				t.Fatal(err)
			}
			waitReply()
		}},
		{"ASet", 0, func() {
			if err := h.ASet(path, data, -1, statCB); err != nil {
				t.Fatal(err)
			}
			waitReply()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(200, tt.call); got != tt.want {
				t.Errorf("%s: %v allocations per call, want %v", tt.name, got, tt.want)
			}
		})
	}
}
