package lineedit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHistory(t *testing.T) {
	name := filepath.Join(t.TempDir(), "h")
	h := loadHistory(name)
	for _, line := range []string{"ls /", "ls /", " ", "get /a", "multi\nline"} {
		h.add(line)
	}
	if diff := cmp.Diff([]string{"ls /", "get /a"}, loadHistory(name).entries); diff != "" {
		t.Errorf("reloaded (-want +got):\n%s", diff)
	}
	if e, ok := h.newest(0); !ok || e != "get /a" {
		t.Errorf("newest(0) = %q, %v", e, ok)
	}
	if _, ok := h.newest(2); ok {
		t.Error("newest(2) exists")
	}
	// A file grown past twice the maximum is compacted on load.
	var b strings.Builder
	for i := range 2*historyMax + 5 {
		fmt.Fprintf(&b, "cmd %d\n", i)
	}
	if err := os.WriteFile(name, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	h = loadHistory(name)
	if len(h.entries) != historyMax || h.entries[0] != fmt.Sprintf("cmd %d", historyMax+5) {
		t.Errorf("loaded %d entries from %q", len(h.entries), h.entries[0])
	}
	data, _ := os.ReadFile(name)
	if n := strings.Count(string(data), "\n"); n != historyMax {
		t.Errorf("compacted file has %d lines, want %d", n, historyMax)
	}
}
