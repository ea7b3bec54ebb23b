// Package hostlist is the handle's list of servers, kept apart from the
// handle as addrvec.c is from zookeeper.c: parsing and resolving a host
// list (getaddrs), the round robin over it and the ZOOKEEPER-1355
// rebalancing when it changes (zoo_cycle_next_server, update_addrs,
// get_next_server_in_reconfig), and the client addresses of a dynamic
// configuration. Nothing here touches a connection or a session.
package hostlist
