package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zkloop/zkloop/zhandle"
)

// Output formats of zkCli.sh, so that scripts written for it keep working.

// javaDate is the layout of java.util.Date.toString, which zkCli.sh's
// StatPrinter uses for ctime and mtime: "Sun Nov 22 03:22:08 UTC 2026".
const javaDate = "Mon Jan 02 15:04:05 MST 2006"

// writeStat prints a Stat as StatPrinter does: one "name = value" line per
// field, zxids and the owner in unpadded lower-case hex, times in the local
// zone.
func writeStat(w io.Writer, st *zhandle.Stat, loc *time.Location) {
	fmt.Fprintf(w, "cZxid = %s\n", javaHex(st.Czxid))
	fmt.Fprintf(w, "ctime = %s\n", time.UnixMilli(st.Ctime).In(loc).Format(javaDate))
	fmt.Fprintf(w, "mZxid = %s\n", javaHex(st.Mzxid))
	fmt.Fprintf(w, "mtime = %s\n", time.UnixMilli(st.Mtime).In(loc).Format(javaDate))
	fmt.Fprintf(w, "pZxid = %s\n", javaHex(st.Pzxid))
	fmt.Fprintf(w, "cversion = %d\n", st.Cversion)
	fmt.Fprintf(w, "dataVersion = %d\n", st.Version)
	fmt.Fprintf(w, "aclVersion = %d\n", st.Aversion)
	fmt.Fprintf(w, "ephemeralOwner = %s\n", javaHex(st.EphemeralOwner))
	fmt.Fprintf(w, "dataLength = %d\n", st.DataLength)
	fmt.Fprintf(w, "numChildren = %d\n", st.NumChildren)
}

// javaHex is "0x" + Long.toHexString: two's complement, no padding.
func javaHex(v int64) string { return "0x" + strconv.FormatUint(uint64(v), 16) }

// writeChildren prints names as zkCli.sh's ls does: sorted, "[a, b]".
func writeChildren(w io.Writer, names []string) {
	fmt.Fprintf(w, "[%s]\n", strings.Join(names, ", "))
}

// dataFormat selects how get prints a node's data.
type dataFormat int

const (
	dataText   dataFormat = iota // text as is; anything else quoted with escapes
	dataBase64                   // get -b
	dataHex                      // get -x: the hex dump of netty's ByteBufUtil.prettyHexDump
)

// formatData renders a node's data, without the final newline. Null data
// (a node created without any) prints "null", as zkCli.sh prints it.
func formatData(data []byte, f dataFormat) string {
	switch {
	case data == nil && f == dataText:
		return "null"
	case f == dataBase64:
		return base64.StdEncoding.EncodeToString(data)
	case f == dataHex:
		return hexDump(data)
	case isText(data):
		return string(data)
	}
	// Binary: a Go-quoted string, so no control byte reaches the terminal
	// and the bytes can be read back exactly.
	return strconv.Quote(string(data))
}

// isText reports whether data is valid UTF-8 without control characters
// other than tab and newline, and so safe to print as it is.
func isText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	for _, r := range string(data) {
		if r == '\t' || r == '\n' {
			continue
		}
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// hexDump is netty's ByteBufUtil.prettyHexDump, which zkCli.sh's get -x
// prints: a framed table of 16 bytes a row, hex and ASCII, empty for no data.
func hexDump(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	const rule = "+--------+-------------------------------------------------+----------------+"
	var b strings.Builder
	b.WriteString("         +-------------------------------------------------+\n")
	b.WriteString("         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |\n")
	b.WriteString(rule)
	for row := 0; row*16 < len(data); row++ {
		chunk := data[row*16 : min(len(data), row*16+16)]
		fmt.Fprintf(&b, "\n|%08x|", row*16)
		for _, c := range chunk {
			fmt.Fprintf(&b, " %02x", c)
		}
		b.WriteString(strings.Repeat("   ", 16-len(chunk)))
		b.WriteString(" |")
		for _, c := range chunk {
			if c <= 0x1f || c >= 0x7f {
				c = '.'
			}
			b.WriteByte(c)
		}
		b.WriteString(strings.Repeat(" ", 16-len(chunk)))
		b.WriteByte('|')
	}
	b.WriteString("\n" + rule)
	return b.String()
}

// keeperState is the name of Java's Watcher.Event.KeeperState for a
// session state, as WatchedEvent.toString prints it.
func keeperState(s zhandle.State) string {
	switch s {
	case zhandle.StateConnected:
		return "SyncConnected"
	case zhandle.StateReadOnly:
		return "ConnectedReadOnly"
	case zhandle.StateConnecting, zhandle.StateAssociating, zhandle.StateNotConnected:
		return "Disconnected"
	case zhandle.StateExpiredSession:
		return "Expired"
	case zhandle.StateAuthFailed:
		return "AuthFailed"
	case zhandle.StateClosed:
		return "Closed"
	}
	return s.String()
}

// watcherLines is what zkCli.sh prints for a watch or session event:
// "WATCHER::" and the event's toString, each after a blank line
// (ZooKeeperMain.printMessage). A session event has no path: "path:null".
func watcherLines(ev zhandle.Event) string {
	path := ev.Path
	if path == "" {
		path = "null"
	}
	return fmt.Sprintf("\nWATCHER::\n\nWatchedEvent state:%s type:%s path:%s\n", keeperState(ev.State), ev.Type, path)
}

// errorLine is the one line zkCli.sh prints for a failed request on path
// (CliWrapperException.getMessage), else KeeperException.getMessage:
// "KeeperErrorCode = <code> for <path>".
func errorLine(err error, path string) string {
	var code zhandle.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "Interrupted"
	case !errors.As(err, &code):
		return err.Error()
	case err != error(code):
		// Refused by the client before anything was sent (a bad path, an
		// oversized request): the client's own explanation.
		return strings.TrimPrefix(err.Error(), "zk: ")
	}
	if msg, ok := cliMessages[code]; ok {
		if strings.HasSuffix(msg, " ") {
			msg += path
		}
		return msg
	}
	msg, ok := keeperMessages[code]
	if !ok {
		msg = code.String() // codes only the C client has: its zerror text
	}
	msg = "KeeperErrorCode = " + msg
	if path != "" {
		msg += " for " + path
	}
	return msg
}

// cliMessages are CliWrapperException's messages; those ending in a space
// are followed by the path.
var cliMessages = map[zhandle.Error]string{
	zhandle.ErrNoNode:                  "Node does not exist: ",
	zhandle.ErrNoChildrenForEphemerals: "Ephemerals cannot have children: ",
	zhandle.ErrNodeExists:              "Node already exists: ",
	zhandle.ErrNotEmpty:                "Node not empty: ",
	zhandle.ErrNotReadOnly:             "Not a read-only call: ",
	zhandle.ErrInvalidACL:              "Acl is not valid : ",
	zhandle.ErrNoAuth:                  "Insufficient permission : ",
	zhandle.ErrBadArguments:            "Arguments are not valid : ",
	zhandle.ErrBadVersion:              "version No is not valid : ",
	zhandle.ErrQuotaExceeded:           "Quota has exceeded : ",
	zhandle.ErrReconfigInProgress:      "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)",
	zhandle.ErrNewConfigNoQuorum: "No quorum of new config is connected and up-to-date with the leader of last committed config" +
		" - try invoking reconfiguration after new servers are connected and synced",
}

// keeperMessages is KeeperException.getCodeMessage.
var keeperMessages = map[zhandle.Error]string{
	zhandle.ErrSystem:                       "SystemError",
	zhandle.ErrRuntimeInconsistency:         "RuntimeInconsistency",
	zhandle.ErrDataInconsistency:            "DataInconsistency",
	zhandle.ErrConnectionLoss:               "ConnectionLoss",
	zhandle.ErrMarshalling:                  "MarshallingError",
	zhandle.ErrNewConfigNoQuorum:            "NewConfigNoQuorum",
	zhandle.ErrReconfigInProgress:           "ReconfigInProgress",
	zhandle.ErrUnimplemented:                "Unimplemented",
	zhandle.ErrOperationTimeout:             "OperationTimeout",
	zhandle.ErrBadArguments:                 "BadArguments",
	zhandle.ErrAPIError:                     "APIError",
	zhandle.ErrNoNode:                       "NoNode",
	zhandle.ErrNoAuth:                       "NoAuth",
	zhandle.ErrBadVersion:                   "BadVersion",
	zhandle.ErrNoChildrenForEphemerals:      "NoChildrenForEphemerals",
	zhandle.ErrNodeExists:                   "NodeExists",
	zhandle.ErrInvalidACL:                   "InvalidACL",
	zhandle.ErrAuthFailed:                   "AuthFailed",
	zhandle.ErrNotEmpty:                     "Directory not empty",
	zhandle.ErrSessionExpired:               "Session expired",
	zhandle.ErrInvalidCallback:              "Invalid callback",
	zhandle.ErrSessionMoved:                 "Session moved",
	zhandle.ErrNotReadOnly:                  "Not a read-only call",
	zhandle.ErrEphemeralOnLocalSession:      "Ephemeral node on local session",
	zhandle.ErrNoWatcher:                    "No such watcher",
	zhandle.ErrReconfigDisabled:             "Reconfig is disabled",
	zhandle.ErrSessionClosedRequireSASLAuth: "Session closed because client failed to authenticate",
	zhandle.ErrQuotaExceeded:                "Quota has exceeded",
	zhandle.ErrThrottled:                    "Op throttled due to high load",
}
