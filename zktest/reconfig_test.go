package zktest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMembers(t *testing.T) {
	servers := []*Server{
		{id: 2, clientPort: 2182, quorumPort: 2889, electionPort: 3889},
		{id: 1, clientPort: 2181, quorumPort: 2888, electionPort: 3888},
	}
	want := []string{
		"server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181",
		"server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182",
	}
	if diff := cmp.Diff(want, Members(servers...)); diff != "" {
		t.Errorf("Members (-want +got):\n%s", diff)
	}
	if got := Members(); len(got) != 0 {
		t.Errorf("Members() of none = %q, want none", got)
	}
}

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       Config
		wantErr    bool
	}{
		{name: "ensemble", data: "server.2=127.0.0.1:1:2:participant;127.0.0.1:3\nserver.1=127.0.0.1:4:5:participant;127.0.0.1:6\nversion=100000000",
			want: Config{Servers: []string{"server.1=127.0.0.1:4:5:participant;127.0.0.1:6", "server.2=127.0.0.1:1:2:participant;127.0.0.1:3"}, Version: 0x100000000}},
		{name: "only-version", data: "version=1f\n", want: Config{Version: 0x1f}},
		{name: "blank-lines", data: "\nserver.1=h:1:2;3\n\nversion=0\n", want: Config{Servers: []string{"server.1=h:1:2;3"}}},
		{name: "no-version", data: "server.1=h:1:2;3", wantErr: true},
		{name: "empty", data: "", wantErr: true},
		{name: "bad-version", data: "version=xyz", wantErr: true},
		{name: "two-versions", data: "version=1\nversion=2", wantErr: true},
		{name: "other-line", data: "clientPort=2181\nversion=1", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tc.data))
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseConfig(%q) error = %v, want error: %v", tc.data, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseConfig(%q) (-want +got):\n%s", tc.data, diff)
			}
		})
	}
}
