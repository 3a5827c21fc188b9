package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.messaging.PeerUnavailableException;
import io.hacluster.messaging.SendResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One membership truth: whatever {@link ClusterNode#members()} shows, the messenger already
 * acts on, in both directions (a departed node is no target, a joined node is one), with no
 * polling window in between.
 */
class ClusterNodeMembershipTruthTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private final List<ClusterNode> nodes = new ArrayList<>();
    private final String cluster = TestNodes.clusterName();

    @AfterEach
    void closeAll() {
        nodes.forEach(ClusterNode::close);
    }

    private ClusterNode start(List<String> seeds) {
        ClusterNode n = ClusterNode.builder().clusterSettings(TestNodes.settings(cluster, seeds).build()).build();
        n.registerHandler("e", in -> { });
        n.start();
        nodes.add(n);
        return n;
    }

    private static String seedOf(ClusterNode n) {
        return "127.0.0.1:" + n.gossipAddress().getPort();
    }

    private static MembershipState stateIn(List<ClusterMember> view, String id) {
        return view.stream().filter(m -> m.id().equals(id)).map(ClusterMember::state).findFirst().orElse(null);
    }

    @Test
    void theMomentMembersShowsANodeGoneTheMessengerRefusesIt() throws Exception {
        ClusterNode first = start(List.of());
        ClusterNode second = start(List.of(seedOf(first)));
        ClusterNode leaving = start(List.of(seedOf(first)));
        String id = leaving.id();
        await().atMost(WAIT).until(() -> first.members().stream().filter(m -> m.state() == MembershipState.ALIVE).count() == 3);

        CompletableFuture<Void> closing = CompletableFuture.runAsync(leaving::close);
        int goneObservations = 0;
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && goneObservations < 200) {
            List<ClusterMember> view = first.members();
            MembershipState state = stateIn(view, id);
            if (state != null && state.isLive()) {
                continue;
            }
            goneObservations++;
            // told before members() showed it: the very next call must already refuse
            CompletableFuture<SendResult> direct = first.messenger()
                    .sendTo(id, ClusterMessage.reliable("e", new byte[1]).waitingForAll(true));
            assertThat(direct).as("a message to %s, shown %s", id, state).isCompletedExceptionally();
            assertThat(direct.handle((r, e) -> e).join()).isInstanceOf(PeerUnavailableException.class);
            SendResult broadcast = first.send(ClusterMessage.reliable("e", new byte[1]).waitingForAll(true))
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(broadcast.targets()).containsExactly(second.id());
            assertThat(broadcast.acknowledged()).containsExactly(second.id());
        }
        assertThat(goneObservations).as("the leave was seen").isEqualTo(200);
        closing.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void theMomentMembersShowsANodeJoinedABroadcastReachesIt() throws Exception {
        ClusterNode first = start(List.of());
        ClusterNode second = start(List.of(seedOf(first)));
        await().atMost(WAIT).until(() -> first.members().stream().filter(m -> m.state() == MembershipState.ALIVE).count() == 2);

        ClusterNode joining = ClusterNode.builder().clusterSettings(TestNodes.settings(cluster, List.of(seedOf(second)))
                .build()).build();
        List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
        joining.registerHandler("e", in -> got.add(new String(in.data(), java.nio.charset.StandardCharsets.UTF_8)));
        nodes.add(joining);
        CompletableFuture<Void> started = CompletableFuture.runAsync(joining::start);
        // spin until first's members() lists the newcomer, then broadcast at once
        long deadline = System.nanoTime() + WAIT.toNanos();
        String id = null;
        while (System.nanoTime() < deadline && id == null) {
            for (ClusterMember m : first.members()) {
                if (!m.local() && m.state() == MembershipState.ALIVE && !m.id().equals(second.id())) {
                    id = m.id();
                }
            }
        }
        assertThat(id).as("the newcomer shows up in members()").isNotNull();
        SendResult result = first.send(ClusterMessage.reliable("e", "first words".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .waitingForAll(true)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(result.targets()).containsExactlyInAnyOrder(second.id(), id);
        assertThat(result.acknowledged()).containsExactlyInAnyOrder(second.id(), id);
        assertThat(got).containsExactly("first words");
        started.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void aBroadcastWithNobodyElseSaysSo() throws Exception {
        ClusterNode alone = start(List.of());
        SendResult result = alone.send(ClusterMessage.reliable("e", new byte[1]).waitingForAll(true))
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(result.noTargetsAtAll()).isTrue();
        assertThat(result.allAcknowledged()).isFalse();
    }
}
