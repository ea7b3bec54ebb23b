package bench

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/zhandle"
)

// TestFakeServer checks the canned replies the benchmarks rely on, through
// the client, sync and async, and the event after a watched getData.
func TestFakeServer(t *testing.T) {
	data := payload(100)
	h := fakeHandle(t, data)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	got, stat, err := h.Get(ctx, benchPath, false)
	if err != nil || !bytes.Equal(got, data) || stat.DataLength != int32(len(data)) {
		t.Errorf("Get = %q, DataLength %d, %v; want the payload", got, stat.DataLength, err)
	}
	if _, err := h.Exists(ctx, benchPath, false); err != nil {
		t.Errorf("Exists: %v", err)
	}
	if _, err := h.Set(ctx, benchPath, data, -1); err != nil {
		t.Errorf("Set: %v", err)
	}
	if err := h.Delete(ctx, benchPath, -1); err != nil {
		t.Errorf("Delete: %v", err)
	}
	created, err := h.Create(ctx, benchPath, data, zhandle.OpenACLUnsafe, zhandle.Persistent)
	if err != nil || created != benchPath {
		t.Errorf("Create = %q, %v; want %q", created, err, benchPath)
	}
	if _, err := h.Sync(ctx, benchPath); err != nil {
		t.Errorf("Sync: %v", err)
	}
	if _, err := h.GetChildren(ctx, benchPath, false); err != nil {
		t.Errorf("GetChildren: %v", err)
	}

	replied := make(chan []byte, 1)
	events := make(chan zhandle.Event, 1)
	w := zhandle.WatcherFunc(func(ev zhandle.Event) {
		if ev.Type != zhandle.EventSession {
			events <- ev
		}
	})
	if err := h.AWGet(benchPath, w, func(err error, data []byte, _ *zhandle.Stat) {
		if err != nil {
			t.Errorf("AWGet callback: %v", err)
		}
		replied <- bytes.Clone(data)
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-replied:
		if !bytes.Equal(got, data) {
			t.Errorf("AWGet data = %q, want the payload", got)
		}
	case <-ctx.Done():
		t.Fatal("no AWGet callback")
	}
	select {
	case ev := <-events:
		want := zhandle.Event{Type: zhandle.EventChanged, State: zhandle.StateConnected, Path: benchPath}
		if diff := cmp.Diff(want, ev); diff != "" {
			t.Errorf("event (-want +got):\n%s", diff)
		}
	case <-ctx.Done():
		t.Fatal("no event after a watched getData")
	}
}
