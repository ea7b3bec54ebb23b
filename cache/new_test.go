package cache

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zkloop/zkloop/zhandle"
)

// unconnected returns a handle that never connects (nothing listens on
// its address), closed at the end of the test.
func unconnected(t *testing.T) *zhandle.Handle {
	h, err := zhandle.Init("127.0.0.1:1", nil, time.Second)
	must(t, "Init", err)
	t.Cleanup(func() { h.Close() })
	return h
}

// New refuses bad arguments with an error that says what is wrong.
func TestNewRefusesBadInput(t *testing.T) {
	h := unconnected(t)
	for _, tc := range []struct {
		name string
		h    *zhandle.Handle
		root string
		opts []Option
		want string
	}{
		{"nil handle", nil, "/r", nil, "nil handle"},
		{"empty root", h, "", nil, "empty root"},
		{"relative root", h, "r", nil, "not absolute"},
		{"trailing slash", h, "/r/", nil, "ends in /"},
		{"empty segment", h, "/r//s", nil, "empty segment"},
		{"nil option", h, "/r", []Option{nil}, "nil option"},
		{"negative depth", h, "/r", []Option{WithMaxDepth(-1)}, "negative depth"},
		{"nil filter", h, "/r", []Option{WithFilter(nil)}, "nil filter"},
		{"negative bytes", h, "/r", []Option{WithMaxBytes(-1)}, "negative byte limit"},
		{"nil listener", h, "/r", []Option{WithListener(nil)}, "nil listener"},
		{"nil renewal", h, "/r", []Option{WithRenewal(nil)}, "nil renewal"},
		{"nil logger", h, "/r", []Option{WithLogger(nil)}, "nil logger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.h, tc.root, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, %v; want an error about %q", c, err, tc.want)
			}
		})
	}
}

// A context already done makes WaitInitialized and Sync return at once,
// and Close ends a cache that never connected.
func TestDoneContext(t *testing.T) {
	c, err := New(unconnected(t), "/r")
	must(t, "New", err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.WaitInitialized(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitInitialized: %v, want %v", err, context.Canceled)
	}
	if err := c.Sync(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Sync: %v, want %v", err, context.Canceled)
	}
	if err := c.Rebuild(nil); err == nil {
		t.Errorf("Rebuild(nil) succeeded")
	}
	if c.Fresh() {
		t.Errorf("Fresh() before any connection")
	}
	must(t, "Close", c.Close())
	if err := c.WaitInitialized(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitInitialized after Close: %v, want %v", err, ErrClosed)
	}
}
