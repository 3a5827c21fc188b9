package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.identity.NodeId;
import io.hacluster.identity.NodeMeta;
import io.hacluster.messaging.Messenger;
import io.hacluster.messaging.MessengerConfig;
import io.hacluster.messaging.PeerUnavailableException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Gossip states reach a real messenger; the peer's streaming port is closed, so messages stay queued. */
class MembershipSyncTest {

    private final String self = "a" + NodeId.generate().substring(1);
    private final String peer = "z" + NodeId.generate().substring(1);  // sorts higher: this node dials
    private final Messenger messenger = new Messenger(MessengerConfig.builder(self, "c")
            .bindAddress(new InetSocketAddress("127.0.0.1", 0)).build());
    private final MembershipSync sync = new MembershipSync(self, messenger);
    private final int closedPort = TestPorts.tcpAndUdp();

    @AfterEach
    void close() {
        messenger.close();
    }

    private Member member(String name, MemberState state, byte[] meta) {
        return new Member(name, new InetSocketAddress("127.0.0.1", 7946), meta, state, 1, 1, 5, 2, 0, 0, 0);
    }

    private Member peer(MemberState state) {
        return member(peer, state, new NodeMeta("c", peer, "1.0", "1", "h", "127.0.0.1", closedPort).encode());
    }

    private Member local() {
        return member(self, MemberState.ALIVE, new NodeMeta("c", self, "1.0", "1", "h", "127.0.0.1", 1).encode());
    }

    private CompletableFuture<Void> send() {
        return messenger.sendTo(peer, ClusterMessage.reliable("e", new byte[] {1}));
    }

    @Test
    void gossipStatesDriveTheMessenger() {
        messenger.start();
        assertThat(send()).failsWithin(Duration.ofSeconds(5));  // unknown before gossip reports it

        sync.reconcile(List.of(local(), peer(MemberState.ALIVE)));
        assertThat(send()).succeedsWithin(Duration.ofSeconds(5));  // queued for the peer
        assertThat(messenger.pendingCount(peer)).isEqualTo(1);

        sync.reconcile(List.of(local(), peer(MemberState.SUSPECT)));
        assertThat(send()).succeedsWithin(Duration.ofSeconds(5));  // a suspect peer's messages wait
        assertThat(messenger.pendingCount(peer)).isEqualTo(2);

        sync.reconcile(List.of(local(), peer(MemberState.DEAD)));
        assertThat(messenger.pendingCount(peer)).isZero();  // pending messages failed
        assertThat(send()).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(Exception.class)
                .withCauseInstanceOf(PeerUnavailableException.class);

        sync.reconcile(List.of(local(), peer(MemberState.ALIVE)));  // a false positive comes back
        assertThat(send()).succeedsWithin(Duration.ofSeconds(5));

        sync.reconcile(List.of(local()));  // forgotten by gossip while alive
        assertThat(send()).failsWithin(Duration.ofSeconds(5));
    }

    @Test
    void firstSeenAsSuspectIsAnnouncedThenSuspected() {
        messenger.start();
        sync.reconcile(List.of(local(), peer(MemberState.SUSPECT)));
        assertThat(send()).succeedsWithin(Duration.ofSeconds(5));
        sync.reconcile(List.of(local(), peer(MemberState.LEFT)));
        assertThat(send()).failsWithin(Duration.ofSeconds(5));
    }

    @Test
    void membersWithoutOurMetaAreIgnored() {
        messenger.start();
        sync.reconcile(List.of(local(), member(peer, MemberState.ALIVE, new byte[] {(byte) 0x81, 1, 2})));
        assertThat(send()).failsWithin(Duration.ofSeconds(5));
        sync.reconcile(List.of(local(), member(peer, MemberState.ALIVE, new byte[] {'h', 'a', 1, (byte) 200})));
        assertThat(send()).failsWithin(Duration.ofSeconds(5));
    }
}
