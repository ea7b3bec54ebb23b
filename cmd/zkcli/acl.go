package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/zkloop/zkloop/zhandle"
)

// parseACL parses zkCli.sh's ACL syntax (AclParser): comma-separated
// entries scheme:id:perms, where the id runs from the first colon to the
// last so that it may hold colons itself ("digest:bob:hash=:cdrwa",
// "ip:10.0.0.0/8:r"), and perms are letters of "cdrwa". Where zkCli.sh
// warns on stderr and skips a malformed entry or letter, parseACL fails,
// so a script never sets an ACL it did not mean.
func parseACL(s string) ([]zhandle.ACL, error) {
	var acl []zhandle.ACL
	for _, entry := range strings.Split(s, ",") {
		first, last := strings.IndexByte(entry, ':'), strings.LastIndexByte(entry, ':')
		if first < 0 || first == last {
			return nil, fmt.Errorf("%s does not have the form scheme:id:perm", entry)
		}
		perms, err := parsePerms(entry[last+1:])
		if err != nil {
			return nil, err
		}
		acl = append(acl, zhandle.ACL{
			Perms: perms,
			ID:    zhandle.ID{Scheme: entry[:first], ID: entry[first+1 : last]},
		})
	}
	return acl, nil
}

// parsePerms parses permission letters (AclParser.getPermFromString).
func parsePerms(s string) (zhandle.Perm, error) {
	var p zhandle.Perm
	for _, c := range s {
		switch c {
		case 'r':
			p |= zhandle.PermRead
		case 'w':
			p |= zhandle.PermWrite
		case 'c':
			p |= zhandle.PermCreate
		case 'd':
			p |= zhandle.PermDelete
		case 'a':
			p |= zhandle.PermAdmin
		default:
			return 0, fmt.Errorf("Unknown perm type: %c", c)
		}
	}
	return p, nil
}

// writeACL prints an ACL as zkCli.sh's getAcl does: the Id record in the
// jute CSV form ('scheme,'id), a line break, then ": " and the permission
// letters.
func writeACL(w io.Writer, acl []zhandle.ACL) {
	for _, a := range acl {
		fmt.Fprintf(w, "'%s,'%s\n: %s\n", csvEscape(a.ID.Scheme), csvEscape(a.ID.ID), a.Perms)
	}
}

// csvEscape escapes a string as jute's CsvOutputArchive.toCSVString does.
var csvEscape = strings.NewReplacer(
	"\x00", "%00", "\n", "%0A", "\r", "%0D", ",", "%2C", "}", "%7D", "%", "%25",
).Replace
