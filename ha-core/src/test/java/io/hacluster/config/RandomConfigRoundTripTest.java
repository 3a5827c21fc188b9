package io.hacluster.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seeded random configurations (bounded count) checked against the rules that must hold for all
 * of them: file round trips, layout-blind hashing, and environment overrides that reproduce any
 * target setting while leaving the file form alone.
 */
class RandomConfigRoundTripTest {

    private static final int CASES = 150;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Reads decimals exactly (as the loader does), so re-serialising does not change them. */
    private static final ObjectMapper JSON = ConfigJson.MAPPER;

    @Test
    void fileFormRoundTripsAndHashIgnoresLayout() throws Exception {
        for (int seed = 0; seed < CASES; seed++) {
            Random random = new Random(seed);
            HaConfig config = randomConfig(random);

            HaConfig reread = HaConfig.parse(config.toJson(), Map.of());
            assertThat(reread).as("seed %d", seed).isEqualTo(config);
            assertThat(reread.hash()).as("seed %d", seed).isEqualTo(config.hash());

            // Same content, keys shuffled at every depth, our names in random case, compact layout.
            JsonNode tree = JSON.readTree(config.toJson());
            String scrambled = JSON.writeValueAsString(scramble(tree, random, true, false));
            HaConfig fromScrambled = HaConfig.parse(scrambled, Map.of());
            assertThat(fromScrambled.clusterSettings()).as("seed %d", seed).isEqualTo(config.clusterSettings());
            assertThat(fromScrambled.sqlSettings()).as("seed %d", seed).isEqualTo(config.sqlSettings());
            assertThat(fromScrambled.hash()).as("seed %d", seed).isEqualTo(config.hash());
        }
    }

    @Test
    void environmentReproducesAnyTargetAndIsNeverSaved() {
        for (int seed = 0; seed < CASES; seed++) {
            Random random = new Random(1000 + seed);
            HaConfig file = randomConfig(random);
            HaConfig target = randomConfig(random);

            Map<String, String> env = new HashMap<>();
            env.putAll(environmentFor(SectionSchema.CLUSTER, ConfigJson.toTree(target.clusterSettings()), random));
            env.putAll(environmentFor(SectionSchema.SQL, ConfigJson.toTree(target.sqlSettings()), random));

            HaConfig overridden = HaConfig.parse(file.toJson(), env);
            assertThat(overridden.clusterSettings()).as("seed %d", seed).isEqualTo(target.clusterSettings());
            assertThat(overridden.sqlSettings()).as("seed %d", seed).isEqualTo(target.sqlSettings());
            assertThat(overridden.toJson()).as("seed %d", seed).isEqualTo(file.toJson());
            assertThat(overridden.environmentOverrides()).hasSize(env.size());
        }
    }

    /** One variable per field, with the value written the way an operator might write it. */
    private static Map<String, String> environmentFor(SectionSchema schema, ObjectNode values, Random random) {
        Map<String, String> env = new HashMap<>();
        for (SectionSchema.Field field : schema.fields()) {
            JsonNode value = values.get(field.name());
            String text = switch (field.kind()) {
                case BOOLEAN -> pick(random, value.booleanValue()
                        ? List.of("1", "t", "T", "TRUE", "true", "True")
                        : List.of("0", "f", "F", "FALSE", "false", "False"));
                case INT, LONG -> (random.nextBoolean() ? " " : "") + value.asText();
                case STRING -> value.textValue();
                case STRING_LIST -> {
                    List<String> parts = new ArrayList<>();
                    value.forEach(element -> parts.add(element.textValue()));
                    yield String.join(random.nextBoolean() ? " " : "  ", parts);
                }
                case RECORD_LIST -> value.toString();
            };
            String name = "HA_" + randomCase(schema.name(), random) + "_" + randomCase(field.name(), random);
            env.put(name, text);
        }
        return env;
    }

    private static HaConfig randomConfig(Random random) {
        int gossip = 1 + random.nextInt(65535);
        int streaming = gossip == 65535 ? 1 : gossip + 1;
        int interval = 1 + random.nextInt(600);
        boolean enable = random.nextBoolean();
        ClusterSettings cluster = ClusterSettings.builder()
                .enable(enable)
                .clusterName(enable || random.nextBoolean() ? word(random, 1 + random.nextInt(64)) : "")
                .overrideHostname(random.nextBoolean() ? "" : word(random, 12))
                .networkInterface(random.nextBoolean() ? "" : "eth" + random.nextInt(4))
                .bindAddress(random.nextBoolean() ? "" : "10.0." + random.nextInt(256) + "." + random.nextInt(256))
                .advertiseAddress(random.nextBoolean() ? "" : "host with spaces " + random.nextInt(9))
                .useIpAddress(random.nextBoolean())
                .enableGossipCompression(random.nextBoolean())
                .enableExperimentalGossipEncryption(random.nextBoolean())
                .readOnlyConfig(random.nextBoolean())
                .gossipPort(gossip)
                .streamingPort(streaming)
                .seeds(randomList(random, 4, () -> pick(random, List.of(word(random, 8), "10.1.2." + random.nextInt(256),
                        "[fd00::" + random.nextInt(99) + "]")) + ":" + (1 + random.nextInt(65535))))
                .gossipPreset(pick(random, List.of("lan", "wan", "local", "WAN")))
                .discoveryIntervalSeconds(interval)
                .discoveryOfflineAfterSeconds(interval + 1 + random.nextInt(10_000))
                .healthPort(random.nextBoolean() ? 0 : otherPort(random, gossip, streaming))
                .nodeIdFile(random.nextBoolean() ? "" : "/var/lib/ha/" + word(random, 6))
                .maxMessageSizeBytes(1 + random.nextInt(Integer.MAX_VALUE))
                .peerQueueSize(1 + random.nextInt(1_000_000))
                .enableFastCrashDetection(random.nextBoolean())
                .build();
        int maxOpen = 1 + random.nextInt(1000);
        boolean database = random.nextInt(4) > 0;
        SqlSettings sql = SqlSettings.builder()
                .dataSource(database ? dsn(random) : "")
                .dataSourceReplicas(database ? randomList(random, 3, () -> dsn(random)) : List.of())
                .dataSourceSearchReplicas(database ? randomList(random, 2, () -> dsn(random)) : List.of())
                .maxIdleConns(random.nextInt(maxOpen + 1))
                .maxOpenConns(maxOpen)
                .connMaxLifetimeMilliseconds(Math.abs(random.nextLong() >> 1))
                .connMaxIdleTimeMilliseconds(random.nextInt(1_000_000))
                .queryTimeout(random.nextInt(3600))
                .replicaLagSettings(randomList(random, 2, () -> new ReplicaLagSetting(dsn(random),
                        random.nextBoolean() ? "select 'n', 1" : "",
                        "select \"x\" from pg_stat_replication -- " + word(random, 5))))
                .replicaMonitorIntervalSeconds(1 + random.nextInt(3600))
                .replicaMaxLagBytes(random.nextLong() >>> 1)
                .replicaMaxLagMilliseconds(random.nextInt(1_000_000))
                .build();
        HaConfig.Builder builder = HaConfig.builder().clusterSettings(cluster).sqlSettings(sql);
        int others = random.nextInt(4);
        for (int i = 0; i < others; i++) {
            builder.otherSection(word(random, 6) + "Settings" + i, randomJson(random, 0));
        }
        return builder.build();
    }

    private static int otherPort(Random random, int gossip, int streaming) {
        int port;
        do {
            port = 1 + random.nextInt(65535);
        } while (port == gossip || port == streaming);
        return port;
    }

    private static String dsn(Random random) {
        String password = word(random, 10) + pick(random, List.of("", "%40at", "!x", ":c"));
        return pick(random, List.of(
                "postgres://u" + random.nextInt(9) + ":" + password + "@db" + random.nextInt(9) + ":"
                        + (1 + random.nextInt(65535)) + "/mm?sslmode=disable",
                "postgresql://u@db" + random.nextInt(9) + "/mm",
                "jdbc:postgresql://[fd00::1]:5432/mm?user=u&password=" + word(random, 8)));
    }

    private static JsonNode randomJson(Random random, int depth) {
        int kind = depth >= 3 ? 2 + random.nextInt(5) : random.nextInt(7);
        return switch (kind) {
            case 0 -> {
                ObjectNode object = NODES.objectNode();
                int n = random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    object.set(word(random, 5) + i, randomJson(random, depth + 1));
                }
                yield object;
            }
            case 1 -> {
                ArrayNode array = NODES.arrayNode();
                int n = random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    array.add(randomJson(random, depth + 1));
                }
                yield array;
            }
            case 2 -> NODES.textNode(word(random, random.nextInt(12)) + pick(random, List.of("", " é", "\"q\"", "\n")));
            case 3 -> NODES.numberNode(random.nextLong());
            case 4 -> NODES.numberNode(new java.math.BigDecimal(random.nextInt(100_000) + ".0" + random.nextInt(100)));
            case 5 -> NODES.booleanNode(random.nextBoolean());
            default -> NODES.nullNode();
        };
    }

    /**
     * Keys shuffled at every depth; our section names, and the field names directly inside our
     * sections, in random case. Names inside other sections keep their case: they are not ours.
     */
    private static JsonNode scramble(JsonNode node, Random random, boolean topLevel, boolean insideOurSection) {
        if (node.isObject()) {
            List<String> names = new ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            Collections.shuffle(names, random);
            ObjectNode out = NODES.objectNode();
            for (String name : names) {
                boolean ourSection = topLevel && isOurSection(name);
                String written = ourSection || insideOurSection ? randomCase(name, random) : name;
                out.set(written, scramble(node.get(name), random, false, ourSection));
            }
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = NODES.arrayNode();
            node.forEach(element -> out.add(scramble(element, random, false, false)));
            return out;
        }
        return node;
    }

    private static boolean isOurSection(String name) {
        return name.equals(ClusterSettings.SECTION) || name.equals(SqlSettings.SECTION);
    }

    private static String randomCase(String text, Random random) {
        return text.chars().mapToObj(c -> String.valueOf((char) c))
                .map(c -> random.nextBoolean() ? c.toUpperCase(Locale.ROOT) : c.toLowerCase(Locale.ROOT))
                .collect(Collectors.joining());
    }

    private static String word(Random random, int length) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < length; i++) {
            out.append((char) ('a' + random.nextInt(26)));
        }
        return out.toString();
    }

    private static <T> T pick(Random random, List<T> choices) {
        return choices.get(random.nextInt(choices.size()));
    }

    private static <T> List<T> randomList(Random random, int max, java.util.function.Supplier<T> element) {
        int n = random.nextInt(max + 1);
        List<T> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(element.get());
        }
        return out;
    }
}
