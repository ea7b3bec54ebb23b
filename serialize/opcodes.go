package serialize

import "strconv"

// OpCode is a request type, the ZOO_*_OP values of proto.h.
type OpCode int32

// Opcodes (proto.h, ZooDefs.OpCode).
const (
	OpNotify               OpCode = 0
	OpCreate               OpCode = 1
	OpDelete               OpCode = 2
	OpExists               OpCode = 3
	OpGetData              OpCode = 4
	OpSetData              OpCode = 5
	OpGetACL               OpCode = 6
	OpSetACL               OpCode = 7
	OpGetChildren          OpCode = 8
	OpSync                 OpCode = 9
	OpPing                 OpCode = 11
	OpGetChildren2         OpCode = 12
	OpCheck                OpCode = 13
	OpMulti                OpCode = 14
	OpCreate2              OpCode = 15
	OpReconfig             OpCode = 16
	OpCheckWatches         OpCode = 17
	OpRemoveWatches        OpCode = 18
	OpCreateContainer      OpCode = 19
	OpDeleteContainer      OpCode = 20
	OpCreateTTL            OpCode = 21
	OpMultiRead            OpCode = 22
	OpClose                OpCode = -11
	OpSetAuth              OpCode = 100
	OpSetWatches           OpCode = 101
	OpSASL                 OpCode = 102
	OpGetEphemerals        OpCode = 103
	OpGetAllChildrenNumber OpCode = 104
	OpSetWatches2          OpCode = 105
	OpAddWatch             OpCode = 106
	OpWhoAmI               OpCode = 107
	OpError                OpCode = -1
)

var opNames = map[OpCode]string{
	OpNotify: "notify", OpCreate: "create", OpDelete: "delete", OpExists: "exists",
	OpGetData: "getData", OpSetData: "setData", OpGetACL: "getACL", OpSetACL: "setACL",
	OpGetChildren: "getChildren", OpSync: "sync", OpPing: "ping", OpGetChildren2: "getChildren2",
	OpCheck: "check", OpMulti: "multi", OpCreate2: "create2", OpReconfig: "reconfig",
	OpCheckWatches: "checkWatches", OpRemoveWatches: "removeWatches",
	OpCreateContainer: "createContainer", OpDeleteContainer: "deleteContainer",
	OpCreateTTL: "createTTL", OpMultiRead: "multiRead", OpClose: "closeSession",
	OpSetAuth: "setAuth", OpSetWatches: "setWatches", OpSASL: "sasl",
	OpGetEphemerals: "getEphemerals", OpGetAllChildrenNumber: "getAllChildrenNumber",
	OpSetWatches2: "setWatches2", OpAddWatch: "addWatch", OpWhoAmI: "whoAmI", OpError: "error",
}

func (o OpCode) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return "OpCode(" + strconv.Itoa(int(o)) + ")"
}

// Special xids (zookeeper.c): replies that are not answers to a request of
// the sent queue carry one of these.
const (
	XidWatcherEvent int32 = -1 // WATCHER_EVENT_XID: a notification
	XidPing         int32 = -2 // PING_XID
	XidAuth         int32 = -4 // AUTH_XID
	XidSetWatches   int32 = -8 // SET_WATCHES_XID
)

// ProtocolVersion is the protocolVersion of ConnectRequest.
const ProtocolVersion int32 = 0

// PasswdLen is the length of a session password.
const PasswdLen = 16

// ConfigNode is the znode holding the ensemble configuration (ZOO_CONFIG_NODE).
const ConfigNode = "/zookeeper/config"
