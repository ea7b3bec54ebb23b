package main

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/zkloop/zkloop/zhandle"
)

// The -clientid file holds a session id and password as cli_mt's myid file
// does: the bytes of a clientid_t (int64 client_id, char passwd[16]) in the
// machine's byte order, so the two tools can share one file.
const clientIDSize = 8 + 16

// readClientID reads a saved session; a missing file is no session.
func readClientID(name string) (zhandle.ClientID, error) {
	var id zhandle.ClientID
	b, err := os.ReadFile(name)
	switch {
	case os.IsNotExist(err):
		return id, nil
	case err != nil:
		return id, err
	case len(b) != clientIDSize:
		return id, fmt.Errorf("%s: %d bytes, not a client id of %d", name, len(b), clientIDSize)
	}
	id.SessionID = int64(binary.NativeEndian.Uint64(b))
	copy(id.Passwd[:], b[8:])
	return id, nil
}

// writeClientID saves a session for -clientid, readable only by its owner:
// the password lets anyone resume the session.
func writeClientID(name string, id zhandle.ClientID) error {
	b := binary.NativeEndian.AppendUint64(make([]byte, 0, clientIDSize), uint64(id.SessionID))
	b = append(b, id.Passwd[:]...)
	return os.WriteFile(name, b, 0o600)
}
