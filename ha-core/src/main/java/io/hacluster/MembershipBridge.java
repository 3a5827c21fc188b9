package io.hacluster;

import io.hacluster.election.Election;
import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.MembershipListener;
import io.hacluster.identity.NodeMeta;
import io.hacluster.messaging.Messenger;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the messenger each membership change the moment gossip makes it, on gossip's thread and
 * before gossip's {@code members()} shows it (see {@link MembershipListener}): so the facade's
 * {@link ClusterNode#members()} and the messenger never disagree. A peer that gossip reports
 * dead or left stays gone in the messenger until gossip reports it alive again, which gossip
 * only does for a higher incarnation.
 *
 * <p>It also keeps the broadcast targets: the other live members, as an immutable list replaced
 * on each event (a joining node is added after the messenger knows it, a departing one removed
 * before the messenger refuses it), so a send never names a peer the messenger cannot take and
 * costs no copy of gossip's view.
 */
final class MembershipBridge implements MembershipListener {

    private static final Logger LOG = LoggerFactory.getLogger(MembershipBridge.class);

    private final String self;
    private final Supplier<Messenger> messenger;
    /** Told after the messenger, so the election can already send to a member it hears of. */
    private final Election election;
    /** Written on gossip's thread only; read by any sender. */
    private volatile List<String> liveTargets = List.of();

    MembershipBridge(String self, Supplier<Messenger> messenger) {
        this(self, messenger, null);
    }

    /** @param election fed every membership change after the messenger; null for none */
    MembershipBridge(String self, Supplier<Messenger> messenger, Election election) {
        this.self = self;
        this.messenger = messenger;
        this.election = election;
    }

    @Override
    public void onJoin(Member member) {
        alive(member);
    }

    @Override
    public void onRecover(Member member) {
        alive(member);
    }

    @Override
    public void onUpdate(Member member) {
        alive(member);
        if (member.state() == MemberState.SUSPECT && !member.name().equals(self)) {
            messenger.get().peerSuspect(member.name());
        }
    }

    @Override
    public void onSuspect(Member member) {
        if (!member.name().equals(self)) {
            messenger.get().peerSuspect(member.name());
        }
    }

    /** The other alive and suspect members, as of the latest membership event. */
    List<String> liveTargets() {
        return liveTargets;
    }

    @Override
    public void onLeave(Member member) {
        if (member.name().equals(self)) {
            return;
        }
        removeTarget(member.name());
        if (member.state() == MemberState.LEFT) {
            messenger.get().peerLeft(member.name());
        } else {
            messenger.get().peerDead(member.name());
        }
        if (election != null) {
            election.memberGone(member.name(), member.state() == MemberState.LEFT);
        }
    }

    @Override
    public void onForget(Member member) {
        if (!member.name().equals(self)) {
            messenger.get().peerForgotten(member.name());
        }
    }

    private void alive(Member member) {
        if (member.name().equals(self)) {
            return;
        }
        NodeMeta meta = meta(member);
        if (meta != null) {
            messenger.get().peerAlive(member.name(), new InetSocketAddress(member.address().getAddress(),
                    meta.streamingPort()));
            addTarget(member.name());
            if (election != null) {
                election.memberAlive(member.name(), meta.mayLead());
            }
        }
    }

    private void addTarget(String id) {
        List<String> current = liveTargets;
        if (!current.contains(id)) {
            List<String> next = new ArrayList<>(current);
            next.add(id);
            liveTargets = List.copyOf(next);
        }
    }

    private void removeTarget(String id) {
        List<String> current = liveTargets;
        if (current.contains(id)) {
            List<String> next = new ArrayList<>(current);
            next.remove(id);
            liveTargets = List.copyOf(next);
        }
    }

    /** Where the member's messenger listens: its gossip IP and the StreamingPort of its meta. */
    static InetSocketAddress streamingAddress(Member m) {
        NodeMeta meta = meta(m);
        return meta == null ? null : new InetSocketAddress(m.address().getAddress(), meta.streamingPort());
    }

    /** The member's decoded meta, or null when it is not one of ours or unreadable. */
    private static NodeMeta meta(Member m) {
        byte[] meta = m.meta();
        if (!NodeMeta.isNodeMeta(meta)) {
            return null;  // not one of ours (the alive filter keeps such members out anyway)
        }
        try {
            return NodeMeta.decode(meta);
        } catch (IllegalArgumentException e) {
            LOG.debug("member {} has unreadable meta: {}", m.name(), e.getMessage());
            return null;
        }
    }
}
