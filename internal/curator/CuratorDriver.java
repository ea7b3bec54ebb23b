/*
 * CuratorDriver runs Apache Curator 5.4 for zkloop's interop tests: the Go
 * type curator.Driver compiles it with javac against Debian's jars, starts
 * one JVM per test and drives it over stdin and stdout. One JVM hosts any
 * number of named CuratorFramework clients and recipe instances.
 *
 * PROTOCOL. UTF-8 lines; every JSON text is on one line.
 *   request:  <id> <command> <args>     args: a JSON array of strings
 *   reply:    <id> ok <result>          result: one JSON value
 *             <id> err <message>        message: a JSON string
 *   event:    event <name> <kind> <data>
 *             data: a JSON object, always with "nanos", System.nanoTime() at
 *             emission (CLOCK_MONOTONIC on Linux, the clock of Go's
 *             unix.ClockGettime(unix.CLOCK_MONOTONIC)).
 * <id> is chosen by the caller and contains no space; replies may come in
 * any order. NAME, the first argument of most commands, names a client or a
 * recipe instance, is created by a command marked "new" below, and contains
 * no whitespace. Every NAME has its own thread: the commands addressed to it
 * run there one at a time, in order, and reply when done (an acquire replies
 * once the lock is held); different NAMEs run concurrently. A lock is owned by
 * the thread that acquired it, so acquire and release go to one NAME. The
 * events a command emits itself (lock.loop's "held") precede its reply.
 *
 * COMMANDS. DATA is base64. TIMEOUT_MS absent means wait forever.
 * "new" creates NAME on the client CLIENT. Results in JSON.
 *   ping                                     {"nanos"}
 *   close NAME                               null: closes a client, latch,
 *                                            selector, discovery, shared count or cache
 *   client.new NAME CONNECT SESSION_MS       new, connected: session as below;
 *                                            events "state" {"state": CONNECTED|SUSPENDED|...}
 *   client.session NAME                      {"id": "0x..", "password": base64, "timeoutMs"}
 *   client.expire NAME                       {"id"}: the server closed the session
 *                                            (a second connection attached to it and closed)
 *   node.create CLIENT PATH DATA             {"path"}: persistent, parents created
 *   node.set CLIENT PATH DATA                {"version", "ephemeralOwner"}
 *   node.get CLIENT PATH                     {"version", "ephemeralOwner", "data"}
 *   node.delete CLIENT PATH                  null
 *   node.children CLIENT PATH                [names], sorted
 *   mutex.new NAME CLIENT PATH               new InterProcessMutex
 *   rwlock.new NAME CLIENT PATH read|write   new side of an InterProcessReadWriteLock
 *   semaphore.new NAME CLIENT PATH MAX       new InterProcessSemaphoreV2 with MAX leases
 *   lock.acquire NAME [TIMEOUT_MS]           {"acquired", "node"}: node is the lock
 *                                            (or lease) node's path
 *   lock.release NAME                        null (a semaphore returns its latest lease)
 *   lock.loop NAME N COUNTER TICKETS [HOLD_MS]
 *       {"iterations"} after N critical sections, each: acquire; if TICKETS is
 *       not "", create a PERSISTENT_SEQUENTIAL TICKETS/t- (data "NAME enter");
 *       if COUNTER is not "", read it (decimal text, empty = 0) and write it
 *       back plus one, unconditionally; sleep HOLD_MS; ticket "NAME exit";
 *       release. Then event "held" {"i", "node", "counter" (the value read),
 *       "enter", "exit" (the tickets' sequence numbers)}, the last three
 *       with a COUNTER or TICKETS only. The tickets of all contenders, Go and
 *       Java, order the holds as ZooKeeper saw them.
 *   latch.start NAME CLIENT PATH ID          new LeaderLatch, started, CloseMode
 *                                            NOTIFY_LEADER; events "isLeader",
 *                                            "notLeader" {"node"}
 *   selector.start NAME CLIENT PATH ID       new LeaderSelector with autoRequeue,
 *                                            leading until interrupted (also by
 *                                            SUSPENDED or LOST); events
 *                                            "leading", "notLeading" {}
 *   selector.interrupt NAME                  null: interruptLeadership
 *   election.isLeader NAME                   {"isLeader"} of a latch or selector
 *   election.leader NAME                     {"id", "isLeader"}
 *   election.participants NAME               [{"id", "isLeader"}], in queue order
 *   discovery.start NAME CLIENT BASEPATH details|map [compatible|full]
 *       new ServiceDiscovery, started, writing with a JsonInstanceSerializer
 *       in compatible mode (Curator's default, no "enabled" field) or full
 *       mode; the payload class is InstanceDetails (@class
 *       "CuratorDriver$InstanceDetails") or java.util.Map
 *   discovery.register NAME INSTANCE         the instance as written to ZooKeeper;
 *   discovery.update NAME INSTANCE           INSTANCE is a JSON object with any of
 *                                            name, id, address, port, sslPort,
 *                                            payload (without @class),
 *                                            registrationTimeUTC, serviceType,
 *                                            uriSpec (a template such as
 *                                            "{scheme}://{address}:{port}"), enabled
 *   discovery.unregister NAME SERVICE ID     null
 *   discovery.query NAME SERVICE ID          instance or null
 *   discovery.instances NAME SERVICE         [instances]
 *   discovery.names NAME                     [names]
 *       An instance read is Curator's JSON in full mode: every field as Java
 *       sees it, "enabled" included, the payload with its @class.
 *   sharedcount.start NAME CLIENT PATH SEED  new SharedCount, started: {"count", "version"};
 *                                            events "changed" {"count"}
 *   sharedcount.get NAME                     {"count", "version"}
 *   sharedcount.set NAME COUNT               null: setCount
 *   sharedcount.increment NAME N             {"retries"}: N trySetCount(value+1),
 *                                            each retried until it succeeds
 *   atomiclong.new NAME CLIENT PATH          new DistributedAtomicLong (optimistic)
 *   atomiclong.get NAME                      {"succeeded", "pre", "post"}
 *   atomiclong.increment NAME                likewise
 *   atomiclong.add NAME DELTA                likewise
 *   barrier.new NAME CLIENT PATH             new DistributedBarrier
 *   barrier.set NAME / barrier.remove NAME   null
 *   barrier.wait NAME [TIMEOUT_MS]           {"released"}
 *   doublebarrier.new NAME CLIENT PATH MEMBERS  new DistributedDoubleBarrier
 *   doublebarrier.enter NAME [TIMEOUT_MS]    {"entered"}
 *   doublebarrier.leave NAME [TIMEOUT_MS]    {"left"}
 *   cache.start NAME CLIENT PATH             new CuratorCache, started: null; events
 *                                            "created", "changed", "deleted"
 *                                            {"path", "version", "data"}, "initialized" {}
 */

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.SharedCountListener;
import org.apache.curator.framework.recipes.shared.SharedCountReader;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.utils.ZKPaths;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceInstanceBuilder;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.UriSpec;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public final class CuratorDriver {
    /** The bean payload of discovery instances of kind "details". */
    public static final class InstanceDetails {
        public String description;
        public int weight;
    }

    /** How long client.new and client.expire wait for a connection. */
    private static final int CONNECT_SECONDS = 30;
    /** How often sharedcount.increment tries one increment before it fails. */
    private static final int MAX_INCREMENT_TRIES = 1000;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final PrintStream out;
    private final Map<String, Command> commands = new HashMap<>();
    private final Map<String, Named> names = new ConcurrentHashMap<>();

    public static void main(String[] args) throws IOException {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, UTF_8);
        System.setOut(System.err); // a stray print must not corrupt the protocol
        new CuratorDriver(out).serve(new BufferedReader(new InputStreamReader(System.in, UTF_8)));
        System.exit(0); // stdin is closed: end the clients' threads too
    }

    private CuratorDriver(PrintStream out) {
        this.out = out;
        defineClients();
        defineLocks();
        defineElections();
        defineDiscovery();
        defineCounters();
        defineBarriers();
        define(Target.NEW, "cache.start NAME CLIENT PATH", this::startCache);
    }

    // ---- dispatch -------------------------------------------------------

    /** Which NAME a command runs on. */
    private enum Target {
        /** none: the command runs on the reading thread */
        NONE,
        /** args[0], created by this command */
        NEW,
        /** args[0], created earlier */
        EXISTING,
    }

    private interface Handler {
        Object run(Call call) throws Exception;
    }

    /** A command: its usage line (which gives its argument count), target and handler. */
    private record Command(String usage, int required, int max, Target target, Handler handler) {}

    /** A client or recipe instance: its value and the thread its commands run on. */
    private static final class Named {
        final ExecutorService thread;
        volatile Object value; // set by the command that created it

        Named(String name) {
            thread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            });
        }
    }

    /** An error in a request, reported without an exception class. */
    @SuppressWarnings("serial") // never serialized
    private static final class Failure extends Exception {
        Failure(String message) {
            super(message);
        }
    }

    /** define registers a command; optional arguments are in brackets in its usage. */
    private void define(Target target, String usage, Handler handler) {
        String[] words = usage.split(" ");
        int required = 0;
        while (required + 1 < words.length && !words[required + 1].startsWith("[")) {
            required++;
        }
        commands.put(words[0], new Command(usage, required, words.length - 1, target, handler));
    }

    private void serve(BufferedReader in) throws IOException {
        for (String line; (line = in.readLine()) != null; ) {
            String[] parts = line.split(" ", 3);
            if (parts.length != 3) {
                fail(parts[0], "malformed request: want <id> <command> <JSON array of strings>");
                continue;
            }
            String[] args;
            try {
                args = JSON.readValue(parts[2], String[].class);
            } catch (IOException e) {
                args = null;
            }
            if (args == null || Arrays.asList(args).contains(null)) {
                fail(parts[0], "arguments are not a JSON array of strings: " + parts[2]);
                continue;
            }
            dispatch(parts[0], parts[1], args);
        }
    }

    private void dispatch(String id, String name, String[] args) {
        Command command = commands.get(name);
        if (command == null) {
            fail(id, "unknown command " + name);
            return;
        }
        if (args.length < command.required || args.length > command.max) {
            fail(id, "usage: " + command.usage);
            return;
        }
        switch (command.target) {
            case NONE -> run(id, command, new Call(args, null));
            case NEW -> {
                if (!args[0].matches("\\S+")) {
                    fail(id, "a name must be non-empty without whitespace: " + JSON.valueToTree(args[0]));
                    return;
                }
                Named named = new Named(args[0]);
                if (names.putIfAbsent(args[0], named) != null) {
                    fail(id, args[0] + " already exists");
                    return;
                }
                named.thread.execute(() -> {
                    if (!run(id, command, new Call(args, named))) {
                        forget(args[0], named);
                    }
                });
            }
            case EXISTING -> {
                Named named = names.get(args[0]);
                if (named == null) {
                    fail(id, "no client or recipe named " + args[0]);
                    return;
                }
                try {
                    named.thread.execute(() -> run(id, command, new Call(args, named)));
                } catch (RejectedExecutionException e) {
                    fail(id, args[0] + " is closed");
                }
            }
        }
    }

    /** run runs a command and replies; it reports whether the command succeeded. */
    private boolean run(String id, Command command, Call call) {
        String result;
        try {
            result = JSON.writeValueAsString(command.handler.run(call));
        } catch (Failure e) {
            fail(id, e.getMessage());
            return false;
        } catch (Exception e) {
            fail(id, e.toString());
            return false;
        }
        write(id + " ok " + result);
        return true;
    }

    /** forget removes a NAME; its thread ends after the running command. */
    private void forget(String name, Named named) {
        names.remove(name, named);
        named.thread.shutdown();
    }

    private void fail(String id, String message) {
        write(id + " err " + JSON.valueToTree(message));
    }

    private void emit(String name, String kind, ObjectNode data) {
        data.put("nanos", System.nanoTime());
        write("event " + name + " " + kind + " " + data);
    }

    private synchronized void write(String line) {
        out.print(line);
        out.print('\n');
        out.flush();
    }

    /** The arguments of one request and the NAME it runs on. */
    private final class Call {
        private final String[] args;
        private final Named self;

        Call(String[] args, Named self) {
            this.args = args;
            this.self = self;
        }

        String arg(int i) {
            return args[i];
        }

        /** arg returns argument i, or otherwise when it is absent. */
        String arg(int i, String otherwise) {
            return i < args.length ? args[i] : otherwise;
        }

        long number(int i) throws Failure {
            try {
                return Long.parseLong(args[i]);
            } catch (NumberFormatException e) {
                throw new Failure("argument " + (i + 1) + " is not an integer: " + JSON.valueToTree(args[i]));
            }
        }

        int integer(int i) throws Failure {
            long n = number(i);
            if (n != (int) n) {
                throw new Failure("argument " + (i + 1) + " is out of range: " + n);
            }
            return (int) n;
        }

        /** number returns argument i, or otherwise when it is absent. */
        long number(int i, long otherwise) throws Failure {
            return i < args.length ? number(i) : otherwise;
        }

        /** timeoutMs returns argument i, or -1 (wait forever) when it is absent. */
        long timeoutMs(int i) throws Failure {
            return number(i, -1);
        }

        byte[] bytes(int i) throws Failure {
            try {
                return Base64.getDecoder().decode(args[i]);
            } catch (IllegalArgumentException e) {
                throw new Failure("argument " + (i + 1) + " is not base64: " + e.getMessage());
            }
        }

        /** named returns the value of the NAME in argument i, checked to be a type. */
        <T> T named(int i, Class<T> type) throws Failure {
            Named named = names.get(args[i]);
            Object value = named == null ? null : named.value;
            if (value == null) {
                throw new Failure("no client or recipe named " + args[i]);
            }
            if (!type.isInstance(value)) {
                throw new Failure(args[i] + " is a " + value.getClass().getSimpleName() + ", not a " + type.getSimpleName());
            }
            return type.cast(value);
        }

        <T> T self(Class<T> type) throws Failure {
            return named(0, type);
        }

        CuratorFramework client(int i) throws Failure {
            return named(i, CuratorFramework.class);
        }

        /** create sets the value of the NAME this command creates. */
        void create(Object value) {
            self.value = value;
        }

        void close() throws Exception {
            if (!(self.value instanceof Closeable closeable)) {
                throw new Failure(args[0] + " cannot be closed");
            }
            closeable.close();
            forget(args[0], self);
        }
    }

    /** A Curator call that blocks until done. */
    private interface Blocking {
        void run() throws Exception;
    }

    /** The same call with a timeout, reporting whether it was done in time. */
    private interface Timed {
        boolean run(long time, TimeUnit unit) throws Exception;
    }

    /** within runs the timed call, or the blocking one when timeoutMs is negative. */
    private static boolean within(long timeoutMs, Blocking blocking, Timed timed) throws Exception {
        if (timeoutMs < 0) {
            blocking.run();
            return true;
        }
        return timed.run(timeoutMs, MILLISECONDS);
    }

    private static ObjectNode object() {
        return JSON.createObjectNode();
    }

    private static String hex(long n) {
        return "0x" + Long.toHexString(n);
    }

    // ---- clients and nodes ----------------------------------------------

    private void defineClients() {
        define(Target.NONE, "ping", c -> object().put("nanos", System.nanoTime()));
        define(Target.EXISTING, "close NAME", c -> {
            c.close();
            return null;
        });
        define(Target.NEW, "client.new NAME CONNECT SESSION_MS", this::newClient);
        define(Target.EXISTING, "client.session NAME", c -> session(c.self(CuratorFramework.class)));
        define(Target.EXISTING, "client.expire NAME", c -> expire(c.self(CuratorFramework.class)));
        define(Target.EXISTING, "node.create CLIENT PATH DATA",
                c -> object().put("path", c.client(0).create().creatingParentsIfNeeded().forPath(c.arg(1), c.bytes(2))));
        define(Target.EXISTING, "node.set CLIENT PATH DATA", c -> stat(c.client(0).setData().forPath(c.arg(1), c.bytes(2))));
        define(Target.EXISTING, "node.get CLIENT PATH", c -> {
            Stat stat = new Stat();
            byte[] data = c.client(0).getData().storingStatIn(stat).forPath(c.arg(1));
            return stat(stat).put("data", data);
        });
        define(Target.EXISTING, "node.delete CLIENT PATH", c -> {
            c.client(0).delete().forPath(c.arg(1));
            return null;
        });
        define(Target.EXISTING, "node.children CLIENT PATH",
                c -> c.client(0).getChildren().forPath(c.arg(1)).stream().sorted().toList());
    }

    private Object newClient(Call c) throws Exception {
        String name = c.arg(0);
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(c.arg(1))
                .sessionTimeoutMs(c.integer(2))
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 1000))
                .build();
        client.getConnectionStateListenable().addListener(
                (unused, state) -> emit(name, "state", object().put("state", state.name())));
        client.start();
        if (!client.blockUntilConnected(CONNECT_SECONDS, SECONDS)) {
            client.close();
            throw new Failure(name + " not connected to " + c.arg(1) + " within " + CONNECT_SECONDS + " s");
        }
        c.create(client);
        return session(client);
    }

    private static ObjectNode session(CuratorFramework client) throws Exception {
        ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
        return object()
                .put("id", hex(zk.getSessionId()))
                .put("password", zk.getSessionPasswd())
                .put("timeoutMs", zk.getSessionTimeout());
    }

    /** expire has the server close the client's session, as if it had expired. */
    private static ObjectNode expire(CuratorFramework client) throws Exception {
        ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
        long id = zk.getSessionId();
        if (id == 0) {
            throw new Failure("the client has no session now");
        }
        CountDownLatch attached = new CountDownLatch(1);
        ZooKeeper twin = new ZooKeeper(client.getZookeeperClient().getCurrentConnectionString(), zk.getSessionTimeout(),
                event -> {
                    if (event.getState() == KeeperState.SyncConnected) {
                        attached.countDown();
                    }
                },
                id, zk.getSessionPasswd());
        try {
            if (!attached.await(CONNECT_SECONDS, SECONDS)) {
                throw new Failure("could not attach to session " + hex(id) + " within " + CONNECT_SECONDS + " s");
            }
        } finally {
            twin.close(); // closes the session on the server
        }
        return object().put("id", hex(id));
    }

    private static ObjectNode stat(Stat stat) {
        return object().put("version", stat.getVersion()).put("ephemeralOwner", hex(stat.getEphemeralOwner()));
    }

    // ---- locks ----------------------------------------------------------

    /** One contender for a mutex, a side of a read-write lock, or a semaphore. */
    private interface Lock {
        /** acquire returns the lock node's path, or null when timeoutMs (negative: none) passed. */
        String acquire(long timeoutMs) throws Exception;

        void release() throws Exception;

        CuratorFramework client();
    }

    /** A mutex-shaped lock; node gives the path of the node held by this thread. */
    private record MutexLock(CuratorFramework client, InterProcessMutex mutex, Supplier<String> node) implements Lock {
        public String acquire(long timeoutMs) throws Exception {
            return within(timeoutMs, mutex::acquire, mutex::acquire) ? node.get() : null;
        }

        public void release() throws Exception {
            mutex.release();
        }
    }

    // The three subclasses below only expose Curator's protected getLockPath.

    private static final class Mutex extends InterProcessMutex {
        Mutex(CuratorFramework client, String path) {
            super(client, path);
        }

        String node() {
            return getLockPath();
        }
    }

    private static final class WriteSide extends InterProcessReadWriteLock.WriteLock {
        WriteSide(CuratorFramework client, String path) {
            super(client, path, null);
        }

        String node() {
            return getLockPath();
        }
    }

    private static final class ReadSide extends InterProcessReadWriteLock.ReadLock {
        ReadSide(CuratorFramework client, String path) {
            // Curator asks this write side whether a read is a downgrade; it is never acquired.
            super(client, path, null, new WriteSide(client, path));
        }

        String node() {
            return getLockPath();
        }
    }

    private static final class SemaphoreLock implements Lock {
        private final CuratorFramework client;
        private final String path;
        private final InterProcessSemaphoreV2 semaphore;
        private final Deque<Lease> leases = new ArrayDeque<>();

        SemaphoreLock(CuratorFramework client, String path, int maxLeases) {
            this.client = client;
            this.path = path;
            this.semaphore = new InterProcessSemaphoreV2(client, path, maxLeases);
        }

        public String acquire(long timeoutMs) throws Exception {
            Lease lease = timeoutMs < 0 ? semaphore.acquire() : semaphore.acquire(timeoutMs, MILLISECONDS);
            if (lease == null) {
                return null;
            }
            leases.push(lease);
            return ZKPaths.makePath(path, "leases", lease.getNodeName()); // the lease knows its name only
        }

        public void release() throws Failure {
            if (leases.isEmpty()) {
                throw new Failure("no lease held");
            }
            semaphore.returnLease(leases.pop());
        }

        public CuratorFramework client() {
            return client;
        }
    }

    private void defineLocks() {
        define(Target.NEW, "mutex.new NAME CLIENT PATH", c -> {
            Mutex mutex = new Mutex(c.client(1), c.arg(2));
            c.create(new MutexLock(c.client(1), mutex, mutex::node));
            return null;
        });
        define(Target.NEW, "rwlock.new NAME CLIENT PATH MODE", c -> {
            c.create(switch (c.arg(3)) {
                case "read" -> {
                    ReadSide side = new ReadSide(c.client(1), c.arg(2));
                    yield new MutexLock(c.client(1), side, side::node);
                }
                case "write" -> {
                    WriteSide side = new WriteSide(c.client(1), c.arg(2));
                    yield new MutexLock(c.client(1), side, side::node);
                }
                default -> throw new Failure("MODE must be read or write, not " + c.arg(3));
            });
            return null;
        });
        define(Target.NEW, "semaphore.new NAME CLIENT PATH MAX", c -> {
            c.create(new SemaphoreLock(c.client(1), c.arg(2), c.integer(3)));
            return null;
        });
        define(Target.EXISTING, "lock.acquire NAME [TIMEOUT_MS]", c -> {
            String node = c.self(Lock.class).acquire(c.timeoutMs(1));
            return object().put("acquired", node != null).put("node", node);
        });
        define(Target.EXISTING, "lock.release NAME", c -> {
            c.self(Lock.class).release();
            return null;
        });
        define(Target.EXISTING, "lock.loop NAME N COUNTER TICKETS [HOLD_MS]", this::lockLoop);
    }

    private Object lockLoop(Call c) throws Exception {
        Lock lock = c.self(Lock.class);
        String name = c.arg(0), counter = c.arg(2), tickets = c.arg(3);
        long n = c.number(1), holdMs = c.number(4, 0);
        for (long i = 0; i < n; i++) {
            ObjectNode held = object().put("i", i).put("node", lock.acquire(-1));
            try {
                if (!tickets.isEmpty()) {
                    held.put("enter", ticket(lock.client(), tickets, name + " enter"));
                }
                if (!counter.isEmpty()) {
                    held.put("counter", increment(lock.client(), counter));
                }
                if (holdMs > 0) {
                    Thread.sleep(holdMs);
                }
                if (!tickets.isEmpty()) {
                    held.put("exit", ticket(lock.client(), tickets, name + " exit"));
                }
            } finally {
                lock.release();
            }
            emit(name, "held", held);
        }
        return object().put("iterations", n);
    }

    /** ticket creates a sequential node under path and returns its sequence number. */
    private static long ticket(CuratorFramework client, String path, String data) throws Exception {
        String created = client.create().creatingParentsIfNeeded()
                .withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(path + "/t-", data.getBytes(UTF_8));
        return Long.parseLong(created.substring(created.lastIndexOf("t-") + 2));
    }

    /** increment reads a decimal counter, writes it back plus one and returns the value read. */
    private static long increment(CuratorFramework client, String path) throws Exception {
        String text = new String(client.getData().forPath(path), UTF_8).trim();
        long value;
        try {
            value = text.isEmpty() ? 0 : Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new Failure("counter " + path + " is not decimal text: " + JSON.valueToTree(text));
        }
        client.setData().forPath(path, Long.toString(value + 1).getBytes(UTF_8));
        return value;
    }

    // ---- leader election ------------------------------------------------

    private void defineElections() {
        define(Target.NEW, "latch.start NAME CLIENT PATH ID", c -> {
            String name = c.arg(0);
            LeaderLatch latch = new LeaderLatch(c.client(1), c.arg(2), c.arg(3), LeaderLatch.CloseMode.NOTIFY_LEADER);
            latch.addListener(new LeaderLatchListener() {
                public void isLeader() {
                    emit(name, "isLeader", object().put("node", latch.getOurPath()));
                }

                public void notLeader() {
                    emit(name, "notLeader", object().put("node", latch.getOurPath()));
                }
            });
            latch.start();
            c.create(latch);
            return null;
        });
        define(Target.NEW, "selector.start NAME CLIENT PATH ID", c -> {
            String name = c.arg(0);
            LeaderSelector selector = new LeaderSelector(c.client(1), c.arg(2), new LeaderSelectorListenerAdapter() {
                public void takeLeadership(CuratorFramework client) throws InterruptedException {
                    emit(name, "leading", object());
                    try {
                        new CountDownLatch(1).await(); // lead until interrupted
                    } finally {
                        emit(name, "notLeading", object());
                    }
                }
            });
            selector.setId(c.arg(3));
            selector.autoRequeue();
            selector.start();
            c.create(selector);
            return null;
        });
        define(Target.EXISTING, "selector.interrupt NAME", c -> {
            c.self(LeaderSelector.class).interruptLeadership();
            return null;
        });
        define(Target.EXISTING, "election.isLeader NAME", c -> {
            boolean leader = c.self(Object.class) instanceof LeaderLatch latch
                    ? latch.hasLeadership()
                    : c.self(LeaderSelector.class).hasLeadership();
            return object().put("isLeader", leader);
        });
        define(Target.EXISTING, "election.leader NAME", c -> {
            Participant leader = c.self(Object.class) instanceof LeaderLatch latch
                    ? latch.getLeader()
                    : c.self(LeaderSelector.class).getLeader();
            return participant(leader);
        });
        define(Target.EXISTING, "election.participants NAME", c -> {
            Collection<Participant> all = c.self(Object.class) instanceof LeaderLatch latch
                    ? latch.getParticipants()
                    : c.self(LeaderSelector.class).getParticipants();
            ArrayNode list = JSON.createArrayNode();
            all.forEach(p -> list.add(participant(p)));
            return list;
        });
    }

    private static ObjectNode participant(Participant p) {
        return object().put("id", p.getId()).put("isLeader", p.isLeader());
    }

    // ---- service discovery ----------------------------------------------

    /** A ServiceDiscovery, the payload class its instances carry and its serializers. */
    private static final class Discovery<T> implements Closeable {
        private final Class<T> payload;
        private final ServiceDiscovery<T> discovery;
        private final JsonInstanceSerializer<T> writer;
        private final JsonInstanceSerializer<T> full;

        Discovery(CuratorFramework client, String basePath, Class<T> payload, boolean compatible) throws Exception {
            this.payload = payload;
            this.writer = new JsonInstanceSerializer<>(payload, compatible);
            this.full = new JsonInstanceSerializer<>(payload, false);
            this.discovery = ServiceDiscoveryBuilder.builder(payload).client(client).basePath(basePath)
                    .serializer(writer).build();
            discovery.start();
        }

        ServiceInstance<T> instance(String text) throws Exception {
            JsonNode fields = JSON.readTree(text);
            if (!fields.isObject()) {
                throw new Failure("INSTANCE is not a JSON object: " + text);
            }
            ServiceInstanceBuilder<T> b = ServiceInstance.builder();
            for (Iterator<Map.Entry<String, JsonNode>> it = fields.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                JsonNode v = field.getValue();
                if (v.isNull()) {
                    continue;
                }
                switch (field.getKey()) {
                    case "name" -> b.name(text(field));
                    case "id" -> b.id(text(field));
                    case "address" -> b.address(text(field));
                    case "port" -> b.port(integer(field));
                    case "sslPort" -> b.sslPort(integer(field));
                    case "payload" -> b.payload(JSON.treeToValue(v, payload));
                    case "registrationTimeUTC" -> b.registrationTimeUTC(number(field));
                    case "serviceType" -> b.serviceType(ServiceType.valueOf(text(field)));
                    case "uriSpec" -> b.uriSpec(new UriSpec(text(field)));
                    case "enabled" -> {
                        if (!v.isBoolean()) {
                            throw new Failure("instance field enabled is not a boolean: " + v);
                        }
                        b.enabled(v.booleanValue());
                    }
                    default -> throw new Failure("unknown instance field " + field.getKey());
                }
            }
            return b.build();
        }

        private static String text(Map.Entry<String, JsonNode> field) throws Failure {
            if (!field.getValue().isTextual()) {
                throw new Failure("instance field " + field.getKey() + " is not a string: " + field.getValue());
            }
            return field.getValue().textValue();
        }

        private static long number(Map.Entry<String, JsonNode> field) throws Failure {
            if (!field.getValue().isIntegralNumber() || !field.getValue().canConvertToLong()) {
                throw new Failure("instance field " + field.getKey() + " is not an integer: " + field.getValue());
            }
            return field.getValue().longValue();
        }

        private static int integer(Map.Entry<String, JsonNode> field) throws Failure {
            if (!field.getValue().canConvertToInt()) {
                throw new Failure("instance field " + field.getKey() + " is out of range: " + field.getValue());
            }
            return (int) number(field);
        }

        /** written returns the instance as this discovery writes it to ZooKeeper. */
        JsonNode written(ServiceInstance<T> instance) throws Exception {
            return JSON.readTree(writer.serialize(instance));
        }

        /** json returns the instance with every field. */
        JsonNode json(ServiceInstance<T> instance) throws Exception {
            return instance == null ? JSON.nullNode() : JSON.readTree(full.serialize(instance));
        }

        ArrayNode json(Collection<ServiceInstance<T>> instances) throws Exception {
            ArrayNode list = JSON.createArrayNode();
            for (ServiceInstance<T> instance : instances) {
                list.add(json(instance));
            }
            return list;
        }

        ServiceDiscovery<T> discovery() {
            return discovery;
        }

        public void close() throws IOException {
            discovery.close();
        }
    }

    @SuppressWarnings("unchecked")
    private static Class<Map<String, Object>> mapClass() {
        return (Class<Map<String, Object>>) (Class<?>) Map.class;
    }

    private void defineDiscovery() {
        define(Target.NEW, "discovery.start NAME CLIENT BASEPATH PAYLOAD [MODE]", c -> {
            String mode = c.arg(4, "compatible");
            if (!mode.equals("compatible") && !mode.equals("full")) {
                throw new Failure("MODE must be compatible or full, not " + mode);
            }
            boolean compatible = mode.equals("compatible");
            c.create(switch (c.arg(3)) {
                case "details" -> new Discovery<>(c.client(1), c.arg(2), InstanceDetails.class, compatible);
                case "map" -> new Discovery<>(c.client(1), c.arg(2), mapClass(), compatible);
                default -> throw new Failure("PAYLOAD must be details or map, not " + c.arg(3));
            });
            return null;
        });
        define(Target.EXISTING, "discovery.register NAME INSTANCE", c -> register(discovery(c), c.arg(1), false));
        define(Target.EXISTING, "discovery.update NAME INSTANCE", c -> register(discovery(c), c.arg(1), true));
        define(Target.EXISTING, "discovery.unregister NAME SERVICE ID", c -> {
            unregister(discovery(c), c.arg(1), c.arg(2));
            return null;
        });
        define(Target.EXISTING, "discovery.query NAME SERVICE ID", c -> query(discovery(c), c.arg(1), c.arg(2)));
        define(Target.EXISTING, "discovery.instances NAME SERVICE", c -> instances(discovery(c), c.arg(1)));
        define(Target.EXISTING, "discovery.names NAME", c -> discovery(c).discovery().queryForNames());
    }

    private static Discovery<?> discovery(Call c) throws Failure {
        return c.self(Discovery.class);
    }

    private static <T> JsonNode register(Discovery<T> d, String text, boolean update) throws Exception {
        ServiceInstance<T> instance = d.instance(text);
        if (update) {
            d.discovery().updateService(instance);
        } else {
            d.discovery().registerService(instance);
        }
        return d.written(instance);
    }

    private static <T> void unregister(Discovery<T> d, String service, String id) throws Exception {
        d.discovery().unregisterService(ServiceInstance.<T>builder().name(service).id(id).build());
    }

    private static <T> JsonNode query(Discovery<T> d, String service, String id) throws Exception {
        return d.json(d.discovery().queryForInstance(service, id));
    }

    private static <T> JsonNode instances(Discovery<T> d, String service) throws Exception {
        return d.json(d.discovery().queryForInstances(service));
    }

    // ---- counters -------------------------------------------------------

    private void defineCounters() {
        define(Target.NEW, "sharedcount.start NAME CLIENT PATH SEED", c -> {
            String name = c.arg(0);
            SharedCount count = new SharedCount(c.client(1), c.arg(2), c.integer(3));
            count.addListener(new SharedCountListener() {
                public void countHasChanged(SharedCountReader reader, int newCount) {
                    emit(name, "changed", object().put("count", newCount));
                }

                public void stateChanged(CuratorFramework client, ConnectionState state) {
                    // the client's "state" events report connection changes
                }
            });
            count.start();
            c.create(count);
            return versioned(count.getVersionedValue());
        });
        define(Target.EXISTING, "sharedcount.get NAME", c -> versioned(c.self(SharedCount.class).getVersionedValue()));
        define(Target.EXISTING, "sharedcount.set NAME COUNT", c -> {
            c.self(SharedCount.class).setCount(c.integer(1));
            return null;
        });
        define(Target.EXISTING, "sharedcount.increment NAME N", c -> {
            SharedCount count = c.self(SharedCount.class);
            long n = c.number(1), retries = 0;
            for (long i = 0; i < n; i++) {
                int tries = 1;
                for (VersionedValue<Integer> v = count.getVersionedValue(); !count.trySetCount(v, v.getValue() + 1);
                        v = count.getVersionedValue()) {
                    if (++tries > MAX_INCREMENT_TRIES) {
                        throw new Failure("increment " + i + " failed " + MAX_INCREMENT_TRIES + " times");
                    }
                }
                retries += tries - 1;
            }
            return object().put("retries", retries);
        });
        define(Target.NEW, "atomiclong.new NAME CLIENT PATH", c -> {
            c.create(new DistributedAtomicLong(c.client(1), c.arg(2), new RetryNTimes(100, 10)));
            return null;
        });
        define(Target.EXISTING, "atomiclong.get NAME", c -> atomic(c.self(DistributedAtomicLong.class).get()));
        define(Target.EXISTING, "atomiclong.increment NAME", c -> atomic(c.self(DistributedAtomicLong.class).increment()));
        define(Target.EXISTING, "atomiclong.add NAME DELTA", c -> atomic(c.self(DistributedAtomicLong.class).add(c.number(1))));
    }

    private static ObjectNode versioned(VersionedValue<Integer> v) {
        return object().put("count", v.getValue()).put("version", v.getVersion());
    }

    private static ObjectNode atomic(AtomicValue<Long> v) {
        return object().put("succeeded", v.succeeded()).put("pre", v.preValue()).put("post", v.postValue());
    }

    // ---- barriers -------------------------------------------------------

    private void defineBarriers() {
        define(Target.NEW, "barrier.new NAME CLIENT PATH", c -> {
            c.create(new DistributedBarrier(c.client(1), c.arg(2)));
            return null;
        });
        define(Target.EXISTING, "barrier.set NAME", c -> {
            c.self(DistributedBarrier.class).setBarrier();
            return null;
        });
        define(Target.EXISTING, "barrier.remove NAME", c -> {
            c.self(DistributedBarrier.class).removeBarrier();
            return null;
        });
        define(Target.EXISTING, "barrier.wait NAME [TIMEOUT_MS]", c -> {
            DistributedBarrier barrier = c.self(DistributedBarrier.class);
            return object().put("released", within(c.timeoutMs(1), barrier::waitOnBarrier, barrier::waitOnBarrier));
        });
        define(Target.NEW, "doublebarrier.new NAME CLIENT PATH MEMBERS", c -> {
            c.create(new DistributedDoubleBarrier(c.client(1), c.arg(2), c.integer(3)));
            return null;
        });
        define(Target.EXISTING, "doublebarrier.enter NAME [TIMEOUT_MS]", c -> {
            DistributedDoubleBarrier barrier = c.self(DistributedDoubleBarrier.class);
            return object().put("entered", within(c.timeoutMs(1), barrier::enter, barrier::enter));
        });
        define(Target.EXISTING, "doublebarrier.leave NAME [TIMEOUT_MS]", c -> {
            DistributedDoubleBarrier barrier = c.self(DistributedDoubleBarrier.class);
            return object().put("left", within(c.timeoutMs(1), barrier::leave, barrier::leave));
        });
    }

    // ---- cache ----------------------------------------------------------

    private Object startCache(Call c) throws Failure {
        String name = c.arg(0);
        CuratorCache cache = CuratorCache.build(c.client(1), c.arg(2));
        cache.listenable().addListener(new CuratorCacheListener() {
            public void event(Type type, ChildData before, ChildData after) {
                ChildData node = after != null ? after : before;
                String kind = switch (type) {
                    case NODE_CREATED -> "created";
                    case NODE_CHANGED -> "changed";
                    case NODE_DELETED -> "deleted";
                };
                emit(name, kind, object()
                        .put("path", node.getPath())
                        .put("version", node.getStat().getVersion())
                        .put("data", node.getData()));
            }

            public void initialized() {
                emit(name, "initialized", object());
            }
        });
        cache.start();
        c.create(cache);
        return null;
    }
}
