package hashtable

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParentChain(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"/a/b/c", []string{"/a/b/c", "/a/b", "/a", "/"}},
		{"/a", []string{"/a", "/"}},
		{"/", []string{"/"}},
		{"/zookeeper/config", []string{"/zookeeper/config", "/zookeeper", "/"}},
		{"relative", []string{"relative"}},
		{"", []string{""}},
	}
	for _, tt := range tests {
		var got []string
		for p, ok := tt.path, true; ok; p, ok = parent(p) {
			got = append(got, p)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ancestors of %q (-want +got):\n%s", tt.path, diff)
		}
	}
}
