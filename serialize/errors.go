package serialize

import "strconv"

// Error is a ZooKeeper return code (enum ZOO_ERRORS of zookeeper.h),
// comparable with == and errors.Is. Ok (0) is not an error and is never
// returned as one.
type Error int32

// Return codes, with the values of zookeeper.h (and of KeeperException.Code
// in Java for the codes only Java has).
const (
	Ok                              Error = 0
	ErrSystem                       Error = -1
	ErrRuntimeInconsistency         Error = -2
	ErrDataInconsistency            Error = -3
	ErrConnectionLoss               Error = -4
	ErrMarshalling                  Error = -5
	ErrUnimplemented                Error = -6
	ErrOperationTimeout             Error = -7
	ErrBadArguments                 Error = -8
	ErrInvalidState                 Error = -9
	ErrUnknownSession               Error = -12
	ErrNewConfigNoQuorum            Error = -13
	ErrReconfigInProgress           Error = -14
	ErrSSLConnection                Error = -15
	ErrAPIError                     Error = -100
	ErrNoNode                       Error = -101
	ErrNoAuth                       Error = -102
	ErrBadVersion                   Error = -103
	ErrNoChildrenForEphemerals      Error = -108
	ErrNodeExists                   Error = -110
	ErrNotEmpty                     Error = -111
	ErrSessionExpired               Error = -112
	ErrInvalidCallback              Error = -113
	ErrInvalidACL                   Error = -114
	ErrAuthFailed                   Error = -115
	ErrClosing                      Error = -116
	ErrNothing                      Error = -117
	ErrSessionMoved                 Error = -118
	ErrNotReadOnly                  Error = -119
	ErrEphemeralOnLocalSession      Error = -120
	ErrNoWatcher                    Error = -121
	ErrRequestTimeout               Error = -122
	ErrReconfigDisabled             Error = -123
	ErrSessionClosedRequireSASLAuth Error = -124
	ErrQuotaExceeded                Error = -125
	ErrThrottled                    Error = -127
)

// Messages follow zerror() of zookeeper.c and KeeperException of Java.
var errorText = map[Error]string{
	Ok:                              "ok",
	ErrSystem:                       "system error",
	ErrRuntimeInconsistency:         "run time inconsistency",
	ErrDataInconsistency:            "data inconsistency",
	ErrConnectionLoss:               "connection loss",
	ErrMarshalling:                  "marshalling error",
	ErrUnimplemented:                "unimplemented",
	ErrOperationTimeout:             "operation timeout",
	ErrBadArguments:                 "bad arguments",
	ErrInvalidState:                 "invalid zhandle state",
	ErrUnknownSession:               "unknown session",
	ErrNewConfigNoQuorum:            "no quorum of new config is connected and up-to-date with the leader of last commmitted config",
	ErrReconfigInProgress:           "another reconfiguration is in progress",
	ErrSSLConnection:                "SSL connection error",
	ErrAPIError:                     "api error",
	ErrNoNode:                       "no node",
	ErrNoAuth:                       "not authenticated",
	ErrBadVersion:                   "bad version",
	ErrNoChildrenForEphemerals:      "no children for ephemerals",
	ErrNodeExists:                   "node exists",
	ErrNotEmpty:                     "not empty",
	ErrSessionExpired:               "session expired",
	ErrInvalidCallback:              "invalid callback",
	ErrInvalidACL:                   "invalid acl",
	ErrAuthFailed:                   "authentication failed",
	ErrClosing:                      "zookeeper is closing",
	ErrNothing:                      "(not error) no server responses to process",
	ErrSessionMoved:                 "session moved to another server, so operation is ignored",
	ErrNotReadOnly:                  "state-changing request is passed to read-only server",
	ErrEphemeralOnLocalSession:      "attempt to create ephemeral node on a local session",
	ErrNoWatcher:                    "the watcher couldn't be found",
	ErrRequestTimeout:               "request timeout",
	ErrReconfigDisabled:             "attempts to perform a reconfiguration operation when reconfiguration feature is disabled",
	ErrSessionClosedRequireSASLAuth: "session closed because client failed to authenticate",
	ErrQuotaExceeded:                "quota has exceeded",
	ErrThrottled:                    "operation was throttled and not executed at all",
}

// Error returns the zerror() text prefixed with "zk: ".
func (e Error) Error() string { return "zk: " + e.String() }

// String returns the zerror() text, or "unknown error N".
func (e Error) String() string {
	if s, ok := errorText[e]; ok {
		return s
	}
	return "unknown error " + strconv.Itoa(int(e))
}
