package io.hacluster;

import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.identity.NodeMeta;
import io.hacluster.messaging.Messenger;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the messenger what gossip believes about each peer: alive (with its streaming address
 * from the node meta), suspect, dead or left. Gossip's listener reports joins, leaves and meta
 * updates but not suspicion, so the facade calls {@link #reconcile} after every event and on a
 * short period; each call compares gossip's current view with what the messenger was last told
 * and sends only the differences. Not thread-safe: the facade calls it from one thread.
 */
final class MembershipSync {

    private static final Logger LOG = LoggerFactory.getLogger(MembershipSync.class);

    private record Told(MemberState state, InetSocketAddress streaming) {
    }

    private final String self;
    private final Messenger messenger;
    private final Map<String, Told> told = new HashMap<>();

    MembershipSync(String self, Messenger messenger) {
        this.self = self;
        this.messenger = messenger;
    }

    void reconcile(List<Member> members) {
        Set<String> seen = new HashSet<>();
        for (Member m : members) {
            if (m.name().equals(self)) {
                continue;
            }
            seen.add(m.name());
            Told last = told.get(m.name());
            switch (m.state()) {
                case ALIVE, SUSPECT -> {
                    InetSocketAddress streaming = streamingAddress(m);
                    if (streaming == null) {
                        continue;  // not one of ours (the alive filter keeps such members out anyway)
                    }
                    boolean revive = last == null || last.state().isGone() || !streaming.equals(last.streaming());
                    if (revive || (m.state() == MemberState.ALIVE && last.state() != MemberState.ALIVE)) {
                        messenger.peerAlive(m.name(), streaming);
                    }
                    if (m.state() == MemberState.SUSPECT && (revive || last.state() != MemberState.SUSPECT)) {
                        messenger.peerSuspect(m.name());
                    }
                    told.put(m.name(), new Told(m.state(), streaming));
                }
                case DEAD -> {
                    if (last != null && last.state() != MemberState.DEAD && last.state() != MemberState.LEFT) {
                        messenger.peerDead(m.name());
                        told.put(m.name(), new Told(MemberState.DEAD, last.streaming()));
                    }
                }
                case LEFT -> {
                    if (last != null && last.state() != MemberState.LEFT) {
                        messenger.peerLeft(m.name());
                        told.put(m.name(), new Told(MemberState.LEFT, last.streaming()));
                    }
                }
            }
        }
        // Members gossip has forgotten: make sure the messenger does not wait for them.
        told.entrySet().removeIf(e -> {
            if (seen.contains(e.getKey())) {
                return false;
            }
            if (!e.getValue().state().isGone()) {
                messenger.peerDead(e.getKey());
            }
            return true;
        });
    }

    private static InetSocketAddress streamingAddress(Member m) {
        byte[] meta = m.meta();
        if (!NodeMeta.isNodeMeta(meta)) {
            return null;
        }
        try {
            NodeMeta decoded = NodeMeta.decode(meta);
            return new InetSocketAddress(m.address().getAddress(), decoded.streamingPort());
        } catch (IllegalArgumentException e) {
            LOG.debug("member {} has unreadable meta: {}", m.name(), e.getMessage());
            return null;
        }
    }
}
