package io.hacluster.identity;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * What a node tells its peers about itself through the gossip node meta, which memberlist
 * limits to {@value #MAX_BYTES} bytes: enough to build a {@code ClusterInfo} and to open a
 * streaming connection without asking the node anything.
 *
 * <p>Wire format (big-endian): the magic {@code 'h' 'a'}, a format byte ({@value #FORMAT}),
 * then six strings each as one length byte and that many UTF-8 bytes (cluster name, id,
 * version, schema version, config hash, hostname), then the streaming port as two bytes, then
 * (format 2) one flags byte whose bit 0 says the node may lead. Bytes after the last known field
 * are ignored, so a later format can append fields that older nodes skip; format 1 meta (no
 * flags byte) decodes as a node that may lead, which is what every format-1 node was. The magic keeps other memberlist users' meta (serf's msgpack tags) from being read as
 * ours.
 *
 * @param clusterName   ClusterSettings.ClusterName; peers of another cluster are refused
 * @param id            the node id
 * @param version       the application version, e.g. {@code 10.5.1}
 * @param schemaVersion the database schema version the node runs with
 * @param configHash    hash of the node's configuration without ClusterSettings
 * @param hostname      the advertised host
 * @param streamingPort the port of the node's reliable messaging listener
 * @param mayLead       whether the node may be elected leader ({@code JobSettings.RunScheduler});
 *     every node must know it of every other, so that all agree on the lowest eligible id
 */
public record NodeMeta(String clusterName, String id, String version, String schemaVersion,
                       String configHash, String hostname, int streamingPort, boolean mayLead) {

    /** memberlist's {@code MetaMaxSize}. */
    public static final int MAX_BYTES = 512;
    static final int FORMAT = 2;
    private static final int FLAG_MAY_LEAD = 1;
    private static final int MAX_FIELD_BYTES = 255;

    public NodeMeta {
        requireText("clusterName", clusterName, true);
        requireText("id", id, false);
        requireText("version", version, true);
        requireText("schemaVersion", schemaVersion, true);
        requireText("configHash", configHash, true);
        requireText("hostname", hostname, false);
        if (streamingPort < 1 || streamingPort > 65535) {
            throw new IllegalArgumentException("streamingPort must be 1..65535, got " + streamingPort);
        }
    }

    /** A node that may lead (the default of {@code RunScheduler}). */
    public NodeMeta(String clusterName, String id, String version, String schemaVersion, String configHash,
                    String hostname, int streamingPort) {
        this(clusterName, id, version, schemaVersion, configHash, hostname, streamingPort, true);
    }

    /** The same meta with another config hash, for announcing a configuration change. */
    public NodeMeta withConfigHash(String newConfigHash) {
        return new NodeMeta(clusterName, id, version, schemaVersion, newConfigHash, hostname, streamingPort, mayLead);
    }

    /**
     * Encodes this meta.
     *
     * @throws IllegalArgumentException naming the field when a field exceeds 255 UTF-8 bytes or
     *     the whole meta exceeds {@value #MAX_BYTES} bytes
     */
    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        out.write('h');
        out.write('a');
        out.write(FORMAT);
        writeString(out, "clusterName", clusterName);
        writeString(out, "id", id);
        writeString(out, "version", version);
        writeString(out, "schemaVersion", schemaVersion);
        writeString(out, "configHash", configHash);
        writeString(out, "hostname", hostname);
        out.write(streamingPort >>> 8);
        out.write(streamingPort & 0xff);
        out.write(mayLead ? FLAG_MAY_LEAD : 0);
        byte[] bytes = out.toByteArray();
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException("node meta is " + bytes.length + " bytes, over gossip's limit of "
                    + MAX_BYTES + " (hostname " + utf8Length(hostname) + " B, version " + utf8Length(version)
                    + " B, schemaVersion " + utf8Length(schemaVersion) + " B, configHash "
                    + utf8Length(configHash) + " B, clusterName " + utf8Length(clusterName) + " B)");
        }
        return bytes;
    }

    /** Whether {@code bytes} start with this format's magic, i.e. come from an ha-cluster node. */
    public static boolean isNodeMeta(byte[] bytes) {
        return bytes != null && bytes.length >= 3 && bytes[0] == 'h' && bytes[1] == 'a';
    }

    /**
     * Decodes meta received from a peer. Input is untrusted: every length is checked against
     * what is left, strings must be valid UTF-8, and any violation is a clear
     * {@link IllegalArgumentException}, never an out-of-bounds read.
     */
    public static NodeMeta decode(byte[] bytes) {
        if (bytes == null) {
            throw new IllegalArgumentException("node meta is missing");
        }
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException("node meta is " + bytes.length + " bytes, over " + MAX_BYTES);
        }
        if (!isNodeMeta(bytes)) {
            throw new IllegalArgumentException("not ha-cluster node meta (bad magic)");
        }
        int format = bytes[2] & 0xff;
        if (format < 1) {
            throw new IllegalArgumentException("unknown node meta format " + (bytes[2] & 0xff));
        }
        ByteBuffer in = ByteBuffer.wrap(bytes, 3, bytes.length - 3);
        String clusterName = readString(in, "clusterName");
        String id = readString(in, "id");
        String version = readString(in, "version");
        String schemaVersion = readString(in, "schemaVersion");
        String configHash = readString(in, "configHash");
        String hostname = readString(in, "hostname");
        if (in.remaining() < 2) {
            throw new IllegalArgumentException("node meta truncated before the streaming port");
        }
        int port = in.getShort() & 0xffff;
        // format 1 has no flags byte: such a node may lead, as every node could before format 2
        boolean mayLead = true;
        if (format >= 2) {
            if (!in.hasRemaining()) {
                throw new IllegalArgumentException("node meta truncated before the flags");
            }
            mayLead = (in.get() & FLAG_MAY_LEAD) != 0;
        }
        return new NodeMeta(clusterName, id, version, schemaVersion, configHash, hostname, port, mayLead);
    }

    private static void writeString(ByteArrayOutputStream out, String field, String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > MAX_FIELD_BYTES) {
            throw new IllegalArgumentException("node meta field " + field + " is " + utf8.length
                    + " UTF-8 bytes, over the limit of " + MAX_FIELD_BYTES);
        }
        out.write(utf8.length);
        out.write(utf8, 0, utf8.length);
    }

    private static String readString(ByteBuffer in, String field) {
        if (!in.hasRemaining()) {
            throw new IllegalArgumentException("node meta truncated before " + field);
        }
        int length = in.get() & 0xff;
        if (length > in.remaining()) {
            throw new IllegalArgumentException("node meta field " + field + " claims " + length
                    + " bytes but only " + in.remaining() + " remain");
        }
        ByteBuffer slice = in.slice();
        slice.limit(length);
        in.position(in.position() + length);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(slice).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("node meta field " + field + " is not valid UTF-8", e);
        }
    }

    private static void requireText(String field, String value, boolean mayBeEmpty) {
        if (value == null) {
            throw new IllegalArgumentException("node meta field " + field + " must not be null");
        }
        if (!mayBeEmpty && value.isEmpty()) {
            throw new IllegalArgumentException("node meta field " + field + " must not be empty");
        }
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
