// Package discovery is service discovery on ZooKeeper that interoperates
// with Apache Curator 5.4's curator-x-discovery: a Go process and a Java
// one register their instances in the same registry and find each
// other's.
//
//	d := discovery.New(h, "/services")
//	defer d.Close()
//	payload, _ := discovery.NewPayload("com.acme.InstanceDetails", details)
//	inst, err := d.Register(ctx, discovery.ServiceInstance{
//		Name: "api", Address: "10.0.0.2", Port: 8080, Payload: payload,
//	})
//	p, err := d.NewProvider(ctx, "api", discovery.RoundRobin())
//	next, err := p.Instance()
//
// # Znodes and JSON (CURATOR.md §4)
//
// An instance is the node basePath/name/id; basePath and the service's
// node are made as containers when missing. DYNAMIC instances are
// ephemeral, DYNAMIC_SEQUENTIAL ones ephemeral and sequential (the node
// name is the id with a suffix), STATIC and PERMANENT ones persistent.
// The node holds the instance as Curator's JsonInstanceSerializer writes
// it: the members name, id, address, port, sslPort, payload,
// registrationTimeUTC, serviceType and uriSpec, in that order, and
// "enabled" after them in full mode (WithFullJSON) or when false.
// Reading follows Jackson's rules, so that Go reads whatever Java reads
// (ServiceInstance's UnmarshalJSON).
//
// The payload is raw JSON. Curator reads an object payload into the Java
// class its "@class" member names (a bean, or java.util.LinkedHashMap for
// a Map), and fails without one unless the Java side declared Map or
// Object: NewPayload writes it, PayloadClass reads it, and
// encoding/json's Unmarshal into a struct ignores it.
//
// # Registering
//
// ServiceDiscovery is Curator's ServiceDiscovery: Register, Update and
// Unregister write this process's instances, and the registry keeps them
// registered: after every reconnection it registers again any instance
// whose node is missing or changed (Curator re-registers on every
// RECONNECTED). A zhandle.Handle ends with its session, where Curator's
// client makes a new one; after an expiry, Reattach moves the registry to
// a new handle and registers everything there. Close unregisters
// everything, as Curator's close does.
//
// # Finding
//
// QueryForNames, QueryForInstances and QueryForInstance read the registry
// once. A Provider keeps a service's instances in memory, kept current by
// watches, and hands them out by a Strategy (RoundRobin, Random); its
// Subscribe reports every change. A node that is not an instance Curator
// could read does not fail a list: it is left out and logged
// (CURATOR.md P9).
package discovery
