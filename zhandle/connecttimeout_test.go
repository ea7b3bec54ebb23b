package zhandle

import (
	"testing"
	"time"

	"github.com/zkloop/zkloop/internal/fakeserver"
)

// A server that accepts the connection and never answers the handshake is
// left after WithConnectTimeout, not after two thirds of the session
// timeout, and the next server serves the session; the bound doubles
// after each miss.
func TestConnectTimeoutLeavesSilentServer(t *testing.T) {
	srv := sharedServer(t)
	silent := fakeserver.New(t)
	silent.SetDefault(fakeserver.NeverAnswer)
	const session = 30 * time.Second // the C client's rule: 20 s of silence
	start := time.Now()
	h := connectHandle(t, silent.Addr()+","+srv.Addr(), nil, session,
		WithDeterministicOrder(), WithConnectTimeout(200*time.Millisecond))
	if took := time.Since(start); took > session*2/3/2 {
		t.Errorf("connected after %v: the silent server was not left within the connect timeout", took)
	}
	if n := silent.Accepted(); n != 1 {
		t.Errorf("the silent server got %d connections, want 1", n)
	}
	if got := h.CurrentServer(); got != srv.Addr() {
		t.Errorf("connected to %s, want %s", got, srv.Addr())
	}
}

// The bound doubles after each attempt that runs out: a server slower to
// answer than the first bound is still reached.
func TestConnectTimeoutDoubles(t *testing.T) {
	var c conn
	c.init()
	c.connectLimit = 100 * time.Millisecond
	const session = 10 * time.Second
	var got []time.Duration
	for range 8 {
		got = append(got, c.silenceLimit(session))
		c.connectMissed(session)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond, session * 2 / 3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("silence limits %v, want %v", got, want)
		}
	}
	c.phase = phaseEstablished
	if l := c.silenceLimit(session); l != session*2/3 {
		t.Errorf("established: limit %v, want two thirds of the session timeout", l)
	}
}
