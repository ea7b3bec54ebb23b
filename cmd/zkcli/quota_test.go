package main

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestQuotaValues reads quota strings as StatsTrack does and writes them
// back in its layout. The server's quota tests run in TestRealServer.
func TestQuotaValues(t *testing.T) {
	tests := []struct {
		data   string
		want   quotaValues
		string string // as written back
		err    string
	}{
		{data: "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=2",
			want:   quotaValues{"count": 5, "bytes": -1, "byteHardLimit": -1, "countHardLimit": 2},
			string: "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=2"},
		{data: "count=3,bytes=12", want: quotaValues{"count": 3, "bytes": 12}, string: "count=3,bytes=12"},
		{data: "bytes=7;;count=1,,", want: quotaValues{"count": 1, "bytes": 7}, string: "count=1,bytes=7"},
		{data: "countHardLimit=4", want: quotaValues{"countHardLimit": 4}, string: "count=-1,bytes=-1=;countHardLimit=4"},
		{data: "zeta=1,count=2,alpha=3", want: quotaValues{"zeta": 1, "count": 2, "alpha": 3}, string: "count=2,bytes=-1=;alpha=3;zeta=1"},
		{data: "count=,bytes=9", want: quotaValues{"count": -1, "bytes": 9}, string: "count=-1,bytes=9"},
		{data: "", want: quotaValues{}, string: "count=-1,bytes=-1"},
		{data: "count=many", err: `malformed quota "count=many": many is not a number`},
	}
	for _, tt := range tests {
		got, err := parseQuota([]byte(tt.data))
		if checkErr(t, fmt.Sprintf("parseQuota(%q)", tt.data), err, tt.err) {
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseQuota(%q) (-want +got):\n%s", tt.data, diff)
		}
		if s := got.String(); s != tt.string {
			t.Errorf("parseQuota(%q).String() = %q, want %q", tt.data, s, tt.string)
		}
	}
}
