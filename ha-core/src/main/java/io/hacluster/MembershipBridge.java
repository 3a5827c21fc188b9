package io.hacluster;

import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.MembershipListener;
import io.hacluster.identity.NodeMeta;
import io.hacluster.messaging.Messenger;
import java.net.InetSocketAddress;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the messenger each membership change the moment gossip makes it, on gossip's thread and
 * before gossip's {@code members()} shows it (see {@link MembershipListener}): so the facade's
 * {@link ClusterNode#members()} and the messenger never disagree. A peer that gossip reports
 * dead or left stays gone in the messenger until gossip reports it alive again, which gossip
 * only does for a higher incarnation.
 */
final class MembershipBridge implements MembershipListener {

    private static final Logger LOG = LoggerFactory.getLogger(MembershipBridge.class);

    private final String self;
    private final Supplier<Messenger> messenger;

    MembershipBridge(String self, Supplier<Messenger> messenger) {
        this.self = self;
        this.messenger = messenger;
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

    @Override
    public void onLeave(Member member) {
        if (member.name().equals(self)) {
            return;
        }
        if (member.state() == MemberState.LEFT) {
            messenger.get().peerLeft(member.name());
        } else {
            messenger.get().peerDead(member.name());
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
        InetSocketAddress streaming = streamingAddress(member);
        if (streaming != null) {
            messenger.get().peerAlive(member.name(), streaming);
        }
    }

    /** Where the member's messenger listens: its gossip IP and the StreamingPort of its meta. */
    static InetSocketAddress streamingAddress(Member m) {
        byte[] meta = m.meta();
        if (!NodeMeta.isNodeMeta(meta)) {
            return null;  // not one of ours (the alive filter keeps such members out anyway)
        }
        try {
            return new InetSocketAddress(m.address().getAddress(), NodeMeta.decode(meta).streamingPort());
        } catch (IllegalArgumentException e) {
            LOG.debug("member {} has unreadable meta: {}", m.name(), e.getMessage());
            return null;
        }
    }
}
