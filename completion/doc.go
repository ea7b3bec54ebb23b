// Package completion holds the request completions of a handle and the
// goroutine that runs them: the port of completion_list_t, the
// completions_to_process list and do_completion of zookeeper.c and
// mt_adaptor.c.
//
// An Entry is one request's completion, or one batch of watchers to notify.
// Entries are pooled and linked intrusively, so queueing a request and
// completing it allocates nothing. A synchronous call waits on its entry's
// own condition variable (the C client's SYNCHRONOUS_MARKER and
// sync_completion); an asynchronous reply or a notification is pushed on a
// Queue that one goroutine drains in order, running callbacks outside the
// lock.
//
// This package is part of zkloop's implementation, used by package
// zhandle; it carries no compatibility promise beyond zhandle's API.
package completion
