package io.hacluster.gossip.redteam;

import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.Keyring;
import io.hacluster.gossip.LogCapture;
import io.hacluster.gossip.LoopbackTimeouts;
import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import io.hacluster.gossip.netty.NettyTransport;
import io.hacluster.gossip.wire.Message;
import io.hacluster.gossip.wire.PushNodeState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The forged-gossip attacks from issue 11, by a {@link Stranger} on loopback with no key, against
 * three real nodes over NettyTransport. With encryption on every forgery is dropped and counted
 * and changes nothing; without a key the bounds hold: a forged max-incarnation dead or alive is
 * refuted and the victim recovers once the forger stops, and a member flood stays under the cap.
 */
class ForgedGossipTest {

    private static final Duration WAIT = Duration.ofSeconds(40);
    private static final byte[] META = "streaming=8075".getBytes(StandardCharsets.UTF_8);
    private static final byte[] EVIL_META = "streaming=6666".getBytes(StandardCharsets.UTF_8);

    private final List<Memberlist> nodes = new ArrayList<>();

    @AfterEach
    void shutdown() {
        nodes.forEach(Memberlist::shutdown);
    }

    private List<Memberlist> cluster(UnaryOperator<GossipConfig.Builder> tuning, byte[] key) throws Exception {
        for (String name : List.of("a", "b", "victim")) {
            GossipConfig config = tuning.apply(GossipConfig.local(name).toBuilder()
                    .bindHost("127.0.0.1").bindPort(0).tcpTimeout(LoopbackTimeouts.TCP_TIMEOUT)
                    .keyring(key == null ? null : Keyring.of(key))).build();
            Memberlist node = Memberlist.builder(config).transport(NettyTransport.bind(config))
                    .metadataProvider(limit -> META).build();
            if (!nodes.isEmpty()) {
                node.join(List.of(nodes.get(0).advertiseAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(),
                        TimeUnit.SECONDS);
            }
            nodes.add(node);
        }
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> n.liveMembers().size() == 3));
        return nodes;
    }

    private static boolean victimIntact(Memberlist observer, InetSocketAddress victimAddress) {
        Member v = observer.member("victim");
        return v != null && v.state() == MemberState.ALIVE && java.util.Arrays.equals(v.meta(), META)
                && v.address().equals(victimAddress);
    }

    @Test
    void withEncryptionEveryForgeryIsDroppedCountedAndChangesNothingAndPushPullDisclosesNothing() throws Exception {
        List<Memberlist> c = cluster(b -> b, Keyring.generateKey());
        Memberlist a = c.get(0), b = c.get(1), victim = c.get(2);
        InetSocketAddress victimAddress = victim.advertiseAddress();
        try (Stranger s = new Stranger()) {
            InetSocketAddress strangerAt = new InetSocketAddress("127.0.0.1", 1);
            List<Message> forged = new ArrayList<>(List.of(
                    Stranger.dead("victim"), Stranger.suspect("victim"),
                    Stranger.alive("victim", strangerAt, EVIL_META),
                    Stranger.alive("victim", victimAddress, EVIL_META)));
            for (int i = 0; i < 50; i++) {
                forged.add(Stranger.alive("invented-" + i, strangerAt, META));
            }
            long[] dropped = {a.stats().encryptionDropped(), b.stats().encryptionDropped()};
            for (Memberlist target : List.of(a, b)) {
                for (Message m : forged) {
                    s.send(target.advertiseAddress(), m);
                }
            }
            byte[] answer = Stranger.pushPull(a.advertiseAddress(), List.of(
                    new PushNodeState("victim", Stranger.LOOPBACK, 1, EVIL_META, Stranger.MAX_INCARNATION,
                            PushNodeState.STATE_DEAD, Stranger.VSN),
                    new PushNodeState("invented-tcp", Stranger.LOOPBACK, 1, META, 1,
                            PushNodeState.STATE_ALIVE, Stranger.VSN)), 5_000);
            assertThat(answer).as("a stranger's push/pull is answered with nothing at all").isEmpty();

            // Every forged datagram (and the stream) reached its target and was dropped as unreadable.
            await().atMost(WAIT).until(() -> a.stats().encryptionDropped() >= dropped[0] + forged.size() + 1
                    && b.stats().encryptionDropped() >= dropped[1] + forged.size());
        }
        for (Memberlist observer : c) {
            assertThat(victimIntact(observer, victimAddress)).as("%s: victim %s", observer.localMember().name(),
                    observer.member("victim")).isTrue();
            assertThat(observer.members()).extracting(Member::name).containsExactlyInAnyOrder("a", "b", "victim");
        }
        assertThat(victim.localMember().incarnation()).as("nothing reached the victim to refute").isLessThan(5);
    }

    /**
     * An alive without a version vector (memberlist accepts one: versions unknown) once counted
     * as protocol range 0..0 in the join check, so every later join failed with "protocol
     * versions incompatible" until the entry was reaped (the live fuzz found it). Unknown
     * versions are now left out of that check, as memberlist leaves out remote states without them.
     */
    @Test
    void anAliveWithoutVersionsDoesNotStopLaterJoins() throws Exception {
        List<Memberlist> c = cluster(b -> b, null);
        Memberlist a = c.get(0);
        try (Stranger s = new Stranger()) {
            InetSocketAddress strangerAt = new InetSocketAddress("127.0.0.1", 1);
            s.send(a.advertiseAddress(), new Message.Alive(1, "no-versions", Stranger.LOOPBACK, strangerAt.getPort(),
                    META, new byte[0]));
            s.send(a.advertiseAddress(), new Message.Alive(1, "short-versions", Stranger.LOOPBACK, strangerAt.getPort(),
                    META, new byte[] {1, 5, 2}));
            await().atMost(WAIT).until(() -> a.member("no-versions") != null && a.member("short-versions") != null);
        }
        GossipConfig config = GossipConfig.local("late").toBuilder().bindHost("127.0.0.1").bindPort(0)
                .tcpTimeout(LoopbackTimeouts.TCP_TIMEOUT).build();
        Memberlist late = Memberlist.builder(config).transport(NettyTransport.bind(config))
                .metadataProvider(limit -> META).build();
        nodes.add(late);
        late.join(List.of(a.advertiseAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
        await().atMost(WAIT).until(() -> late.member("victim") != null
                && late.member("victim").state() == MemberState.ALIVE);
    }

    /**
     * The forged incarnations: 2^32-1 (the attack, which evicted for good under plain
     * uint32 order and is simply stale in serial order), the strongest forgery serial order
     * allows (2^31-1 ahead of the victim), and a small step ahead (a forgery memberlist's order
     * would take too).
     */
    private static long[] forgedIncarnations(long victimIncarnation) {
        return new long[] {0xFFFF_FFFFL, (victimIncarnation + (1L << 31) - 1) & 0xFFFF_FFFFL, victimIncarnation + 10};
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "forgery {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 1, 2})
    void withoutAKeyAForgedDeadIsRefutedAndTheVictimRecovers(int which) throws Exception {
        List<Memberlist> c = cluster(b -> b, null);
        Memberlist a = c.get(0), b = c.get(1), victim = c.get(2);
        InetSocketAddress victimAddress = victim.advertiseAddress();
        long forged = forgedIncarnations(victim.localMember().incarnation())[which];
        try (Stranger s = new Stranger()) {
            for (int i = 0; i < 3; i++) {
                s.send(a.advertiseAddress(), Stranger.dead("victim", forged));
                s.send(b.advertiseAddress(), Stranger.dead("victim", forged));
            }
        }
        // The forger has stopped. Either the forgery is stale (2^32-1 against a small number) or
        // the victim hears of its death and refutes with an incarnation that orders after it;
        // everyone ends with the victim alive at an incarnation newer than the forgery.
        await("victim alive again everywhere, newer than the forgery").atMost(WAIT).untilAsserted(() -> {
            for (Memberlist observer : c) {
                assertThat(victimIntact(observer, victimAddress)).as("%s sees %s", observer.localMember().name(),
                        observer.member("victim")).isTrue();
                assertThat(Stranger.newer(observer.member("victim").incarnation(), forged)).as("%s sees %s, forged %d",
                        observer.localMember().name(), observer.member("victim"), forged).isTrue();
            }
        });
        assertThat(victim.localMember().incarnation()).as("a refutation never wraps to 0").isNotZero();
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "forgery {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 1, 2})
    void withoutAKeyAForgedAliveWithForeignMetaIsRefuted(int which) throws Exception {
        List<Memberlist> c = cluster(b -> b, null);
        Memberlist a = c.get(0), b = c.get(1), victim = c.get(2);
        InetSocketAddress victimAddress = victim.advertiseAddress();
        long forged = forgedIncarnations(victim.localMember().incarnation())[which];
        try (Stranger s = new Stranger()) {
            // Another address is refused outright (a live node's address never moves); the same
            // address with other metadata (memberlist's only check is the incarnation) is taken at
            // first and then refuted by the victim.
            s.send(a.advertiseAddress(), Stranger.alive("victim", new InetSocketAddress("127.0.0.1", 1), EVIL_META, forged));
            s.send(a.advertiseAddress(), Stranger.alive("victim", victimAddress, EVIL_META, forged));
            s.send(b.advertiseAddress(), Stranger.alive("victim", victimAddress, EVIL_META, forged));
        }
        await("victim's own metadata is back everywhere").atMost(WAIT).untilAsserted(() -> {
            for (Memberlist observer : c) {
                assertThat(victimIntact(observer, victimAddress)).as("%s sees %s", observer.localMember().name(),
                        observer.member("victim")).isTrue();
                assertThat(Stranger.newer(observer.member("victim").incarnation(), forged)).isTrue();
            }
        });
    }

    @Test
    void withoutAKeyAMemberFloodStaysUnderTheCapAndIsCounted() throws Exception {
        int cap = 40;
        List<Memberlist> c = cluster(b -> b.maxMembers(cap).memberAdmissionsPerSecond(10_000), null);
        Memberlist a = c.get(0);
        int flood = 2_000;
        long received = a.stats().packetsReceived();
        try (Stranger s = new Stranger()) {
            for (int i = 0; i < flood; i++) {
                s.send(a.advertiseAddress(), Stranger.alive("flood-" + i, new InetSocketAddress("127.0.0.1", 1), META));
                if (i % 200 == 199) {
                    // keep under the handoff queue: wait until this batch was taken in
                    long want = received + i + 1;
                    await().atMost(WAIT).until(() -> a.stats().packetsReceived() >= want);
                }
            }
        }
        await().atMost(WAIT).until(() -> a.stats().membersRefused() + a.numMembers() >= flood + 3 - 1
                || a.stats().packetsReceived() >= received + flood && a.stats().membersRefused() > 0);
        await().atMost(WAIT).until(() -> a.stats().membersRefused() >= flood - cap);
        for (Memberlist n : c) {
            assertThat(n.members().size()).as("%s member table", n.localMember().name()).isLessThanOrEqualTo(cap);
        }
        assertThat(a.liveMembers()).extracting(Member::name).contains("a", "b", "victim");
    }

    @Test
    void withoutAKeyNewMembersAreAdmittedNoFasterThanTheRate() throws Exception {
        int rate = 20;
        List<Memberlist> c = cluster(b -> b.memberAdmissionsPerSecond(rate), null);
        Memberlist a = c.get(0);
        long start = System.nanoTime();
        int flood = 600;
        try (Stranger s = new Stranger()) {
            for (int i = 0; i < flood; i++) {
                s.send(a.advertiseAddress(), Stranger.alive("burst-" + i, new InetSocketAddress("127.0.0.1", 1), META));
            }
        }
        await().atMost(WAIT).until(() -> a.stats().membersRefused() > 0);
        long admitted = a.members().stream().filter(m -> m.name().startsWith("burst-")).count();
        double seconds = (System.nanoTime() - start) / 1e9;
        // the bucket starts full (rate tokens) and refills at rate per second
        assertThat(admitted).isLessThanOrEqualTo((long) Math.ceil(rate + seconds * rate));
    }

    @Test
    void peerSuppliedNamesAreEscapedAndAFloodOfBadPingsWritesFewLines() throws Exception {
        List<Memberlist> c = cluster(b -> b, null);
        Memberlist a = c.get(0);
        try (LogCapture log = LogCapture.of(Class.forName("io.hacluster.gossip.GossipCore"));
             Stranger s = new Stranger()) {
            String evil = "x\n2099-01-01 WARN forged line \u001b[31mred";
            long start = System.nanoTime();
            long received = a.stats().rejectedDropped();
            int flood = 2_000;
            for (int i = 0; i < flood; i++) {
                s.send(a.advertiseAddress(), new Message.Ping(i, evil + i, Stranger.LOOPBACK, 1, "stranger"));
                if (i % 200 == 199) {
                    long want = received + i + 1;
                    await().atMost(WAIT).until(() -> a.stats().rejectedDropped() >= want);
                }
            }
            await().atMost(WAIT).until(() -> a.stats().rejectedDropped() >= received + flood);
            double seconds = (System.nanoTime() - start) / 1e9;
            List<String> lines = log.messages().stream().filter(m -> m.contains("unexpected node")).toList();
            assertThat(lines).isNotEmpty();
            assertThat(lines).allSatisfy(l -> assertThat(l).doesNotContain("\n").doesNotContain("\u001b")
                    .contains("\\u000a").contains("\\u001b"));
            // one line per 10 s at most, plus the first
            assertThat(lines.size()).isLessThanOrEqualTo(1 + (int) Math.ceil(seconds / 10));
        }
    }
}
