// GoldenGen writes the Jute encodings that the Go tests of package serialize
// compare against: every record of zookeeper.jute built with the values that
// golden_test.go builds, serialized by the real Java classes through
// BinaryOutputArchive.
//
//	javac -cp /usr/share/java/zookeeper-jute.jar -d /tmp/gg GoldenGen.java
//	java -cp /usr/share/java/zookeeper-jute.jar:/tmp/gg GoldenGen golden.txt
//
// Output: one line per case, "<Record>[/<variant>] <hex>". The source stays
// ASCII; non-ASCII text is written as Unicode escapes.

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.data.StatPersisted;
import org.apache.zookeeper.proto.*;

public class GoldenGen {
    // Keep in step with the values of golden_test.go.
    static final String PATH = "/zkloop/\u00fcn\u00efc\u00f8d\u00e9/\u65e5\u672c/\ud83d\ude00";
    static final Stat STAT = new Stat(Long.MAX_VALUE, Long.MIN_VALUE, 1700000000123L, -1L,
            Integer.MAX_VALUE, Integer.MIN_VALUE, -1, 0x0123456789abcdefL, 100, 7, 0x7edcba9876543210L);
    static final Stat ZERO = new Stat();
    static final List<ACL> ACLS = Arrays.asList(
            new ACL(31, new Id("world", "anyone")),
            new ACL(1, new Id("digest", "user:h\u00e4sh=")));
    static final List<String> CHILDREN = Arrays.asList("a", "b\u00e9", "", "\ud83d\ude00");

    static byte[] data() { // 100 bytes, every value of a byte's range touched
        byte[] b = new byte[100];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }

    static byte[] passwd() {
        byte[] b = new byte[16];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 17 + 1);
        }
        return b;
    }

    static final byte[] TOKEN = {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef, 0, (byte) 0xff};

    static <T> List<T> list(T... v) {
        return new ArrayList<>(Arrays.asList(v));
    }

    static final StringBuilder out = new StringBuilder();

    static void emit(String name, Record r) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        r.serialize(BinaryOutputArchive.getArchive(bos), "");
        out.append(name).append(' ');
        for (byte b : bos.toByteArray()) {
            out.append(String.format("%02x", b & 0xff));
        }
        out.append('\n');
    }

    public static void main(String[] args) throws IOException {
        out.append("# Jute encodings from the Java classes of zookeeper-jute, written by GoldenGen.java. Do not edit.\n");

        emit("Id", new Id("digest", "user:\u00e9t\u00e9"));
        emit("Id/empty", new Id("", ""));
        emit("ACL", new ACL(31, new Id("world", "anyone")));
        emit("ACL/negative", new ACL(-1, new Id("ip", "10.0.0.0/8")));
        emit("Stat", STAT);
        emit("Stat/zero", ZERO);
        emit("StatPersisted", new StatPersisted(Long.MIN_VALUE, 2L, -3L, Long.MAX_VALUE,
                Integer.MIN_VALUE, 5, Integer.MAX_VALUE, -7L, 0x0102030405060708L));
        emit("ClientInfo", new ClientInfo("sasl", "zk/h\u00f6st@REALM"));
        emit("ClientInfo/empty", new ClientInfo("", ""));

        emit("ConnectRequest", new ConnectRequest(0, Long.MAX_VALUE, 30000, 0x1122334455667788L, passwd()));
        emit("ConnectRequest/nil", new ConnectRequest(0, 0L, -1, 0L, null));
        emit("ConnectRequest/empty", new ConnectRequest(Integer.MIN_VALUE, Long.MIN_VALUE, 0, -1L, new byte[0]));
        emit("ConnectResponse", new ConnectResponse(0, 40000, 0x72a1b0c9d8e7f605L, passwd()));
        emit("ConnectResponse/expired", new ConnectResponse(0, 0, 0L, null));
        emit("AuthPacket", new AuthPacket(0, "digest", "user:pass".getBytes(StandardCharsets.UTF_8)));
        emit("AuthPacket/nil", new AuthPacket(-7, "", null));
        emit("WhoAmIResponse", new WhoAmIResponse(list(new ClientInfo("ip", "127.0.0.1"),
                new ClientInfo("sasl", "zk/h\u00f6st@REALM"))));
        emit("WhoAmIResponse/nil", new WhoAmIResponse(null));
        emit("WhoAmIResponse/empty", new WhoAmIResponse(list()));

        emit("RequestHeader", new RequestHeader(7, 4));
        emit("RequestHeader/ping", new RequestHeader(-2, 11));
        emit("RequestHeader/extremes", new RequestHeader(Integer.MIN_VALUE, Integer.MAX_VALUE));
        emit("ReplyHeader", new ReplyHeader(7, 0x100000002L, 0));
        emit("ReplyHeader/watch", new ReplyHeader(-1, -1L, 0));
        emit("ReplyHeader/error", new ReplyHeader(Integer.MAX_VALUE, Long.MIN_VALUE, -101));
        emit("MultiHeader", new MultiHeader(1, false, 0));
        emit("MultiHeader/done", new MultiHeader(-1, true, -1));
        emit("ErrorResponse", new ErrorResponse(-101));
        emit("WatcherEvent", new WatcherEvent(3, 3, PATH));
        emit("WatcherEvent/session", new WatcherEvent(-1, -112, ""));
        emit("WatcherEvent/null", new WatcherEvent(-1, -112, null));

        emit("CreateRequest", new CreateRequest(PATH, data(), ACLS, 3));
        emit("CreateRequest/nil", new CreateRequest("/n", null, null, 0));
        emit("CreateRequest/empty", new CreateRequest("/e", new byte[0], list(), 4));
        emit("CreateTTLRequest", new CreateTTLRequest(PATH, data(), ACLS, 5, 0xFFFFFFFFFFL));
        emit("CreateTTLRequest/negative", new CreateTTLRequest("/t", null, list(), 6, -1L));
        emit("CreateResponse", new CreateResponse(PATH + "0000000001"));
        emit("Create2Response", new Create2Response(PATH, STAT));
        emit("DeleteRequest", new DeleteRequest(PATH, -1));
        emit("ExistsRequest", new ExistsRequest(PATH, true));
        emit("ExistsResponse", new ExistsResponse(STAT));
        emit("GetDataRequest", new GetDataRequest(PATH, true));
        emit("GetDataRequest/nowatch", new GetDataRequest("/", false));
        emit("GetDataResponse", new GetDataResponse(data(), STAT));
        emit("GetDataResponse/nil", new GetDataResponse(null, ZERO));
        emit("GetDataResponse/empty", new GetDataResponse(new byte[0], STAT));
        emit("SetDataRequest", new SetDataRequest(PATH, data(), -1));
        emit("SetDataRequest/nil", new SetDataRequest("/n", null, 0));
        emit("SetDataRequest/empty", new SetDataRequest("/e", new byte[0], Integer.MAX_VALUE));
        emit("SetDataResponse", new SetDataResponse(STAT));
        emit("CheckVersionRequest", new CheckVersionRequest(PATH, Integer.MIN_VALUE));
        emit("SyncRequest", new SyncRequest(PATH));
        emit("SyncResponse", new SyncResponse(PATH));

        emit("GetChildrenRequest", new GetChildrenRequest(PATH, true));
        emit("GetChildrenResponse", new GetChildrenResponse(CHILDREN));
        emit("GetChildrenResponse/nil", new GetChildrenResponse(null));
        emit("GetChildrenResponse/empty", new GetChildrenResponse(list()));
        emit("GetChildren2Request", new GetChildren2Request("/", false));
        emit("GetChildren2Response", new GetChildren2Response(CHILDREN, STAT));
        emit("GetChildren2Response/nil", new GetChildren2Response(null, ZERO));
        emit("GetAllChildrenNumberRequest", new GetAllChildrenNumberRequest(PATH));
        emit("GetAllChildrenNumberResponse", new GetAllChildrenNumberResponse(Integer.MAX_VALUE));

        emit("GetACLRequest", new GetACLRequest(PATH));
        emit("GetACLResponse", new GetACLResponse(ACLS, STAT));
        emit("GetACLResponse/nil", new GetACLResponse(null, STAT));
        emit("GetACLResponse/empty", new GetACLResponse(list(), ZERO));
        emit("SetACLRequest", new SetACLRequest(PATH, ACLS, 2));
        emit("SetACLRequest/nil", new SetACLRequest("/", null, -1));
        emit("SetACLResponse", new SetACLResponse(STAT));

        emit("SetWatches", new SetWatches(Long.MAX_VALUE, list(PATH, "/a"), list(), null));
        emit("SetWatches/nil", new SetWatches(-1L, null, null, null));
        emit("SetWatches2", new SetWatches2(123456789012345L, list("/d"), list("/e1", "/e2"), list(), null, list(PATH)));
        emit("SetWatches2/empty", new SetWatches2(0L, list(), list(), list(), list(), list()));
        emit("AddWatchRequest", new AddWatchRequest(PATH, 1));
        emit("CheckWatchesRequest", new CheckWatchesRequest(PATH, 2));
        emit("RemoveWatchesRequest", new RemoveWatchesRequest(PATH, 3));

        emit("GetSASLRequest", new GetSASLRequest(TOKEN));
        emit("GetSASLRequest/nil", new GetSASLRequest(null));
        emit("SetSASLRequest", new SetSASLRequest(TOKEN));
        emit("SetSASLRequest/empty", new SetSASLRequest(new byte[0]));
        emit("SetSASLResponse", new SetSASLResponse(TOKEN));
        emit("SetSASLResponse/nil", new SetSASLResponse(null));

        // ZooKeeperAdmin.reconfigure sends null for what it does not use.
        emit("ReconfigRequest", new ReconfigRequest("server.4=127.0.0.1:2888:3888;2181", "1,2", null, -1L));
        emit("ReconfigRequest/members", new ReconfigRequest(null, null, "server.1=[::1]:2888:3888:participant;2181", Long.MAX_VALUE));
        emit("ReconfigRequest/add", new ReconfigRequest("server.3=127.0.0.1:2890:3890:participant;127.0.0.1:2183", null, null, 0x100000000L));
        emit("ReconfigRequest/remove", new ReconfigRequest(null, "3", null, -1L));
        emit("ReconfigRequest/null", new ReconfigRequest(null, null, null, -1L));
        emit("ReconfigRequest/empty", new ReconfigRequest("", "", "", -1L));
        emit("GetEphemeralsRequest", new GetEphemeralsRequest(PATH));
        emit("GetEphemeralsRequest/empty", new GetEphemeralsRequest(""));
        emit("GetEphemeralsRequest/null", new GetEphemeralsRequest(null));
        emit("GetEphemeralsResponse", new GetEphemeralsResponse(list(PATH, "/x")));
        emit("GetEphemeralsResponse/empty", new GetEphemeralsResponse(list()));
        emit("GetMaxChildrenRequest", new GetMaxChildrenRequest(PATH));
        emit("GetMaxChildrenResponse", new GetMaxChildrenResponse(-1));
        emit("SetMaxChildrenRequest", new SetMaxChildrenRequest(PATH, Integer.MAX_VALUE));

        if (args.length != 1) {
            System.err.println("usage: GoldenGen <output file>");
            System.exit(2);
        }
        Files.write(Paths.get(args[0]), out.toString().getBytes(StandardCharsets.UTF_8));
    }
}
