package io.hacluster.gossip;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Every state change of a member is an event, and the listener hears of it before
 * {@code members()} shows it: the guarantee that lets a messenger or an election share gossip's
 * truth without polling.
 */
class SimMembershipEventsTest {

    /** One event as the listener saw it, with what the view showed at that moment. */
    private record Seen(String event, String member, MemberState eventState, MemberState visibleState) {
    }

    private static final class Recorder implements MembershipListener {
        final List<Seen> seen = new ArrayList<>();
        /** The event's meta and the meta the view showed at that moment, per update event. */
        final List<byte[][]> updateMeta = new ArrayList<>();
        final AtomicReference<Memberlist> self = new AtomicReference<>();

        private void record(String event, Member m) {
            Memberlist ml = self.get();
            Member visible = ml == null ? null : ml.member(m.name());
            seen.add(new Seen(event, m.name(), m.state(), visible == null ? null : visible.state()));
        }

        @Override public void onJoin(Member m) { record("join", m); }
        @Override public void onLeave(Member m) { record("leave", m); }
        @Override public void onUpdate(Member m) {
            record("update", m);
            Member visible = self.get().member(m.name());
            updateMeta.add(new byte[][] {m.meta(), visible.meta()});
        }
        @Override public void onSuspect(Member m) { record("suspect", m); }
        @Override public void onRecover(Member m) { record("recover", m); }
        @Override public void onForget(Member m) { record("forget", m); }

        List<Seen> about(String name) {
            return seen.stream().filter(s -> s.member().equals(name)).toList();
        }
    }

    private static Recorder observe(SimCluster c, String name) {
        Recorder r = new Recorder();
        r.self.set(c.start(name, b -> b.membershipListener(r)));
        return r;
    }

    @Test
    void aCrashIsSuspectThenDeadThenForgottenAndEachEventPrecedesTheView() {
        SimCluster c = new SimCluster(11, GossipConfig::lan);
        Recorder a = observe(c, "a");
        c.start("b");
        c.start("c");
        c.members.get("b").join(List.of(c.net.node("a").address()));
        c.members.get("c").join(List.of(c.net.node("a").address()));
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(10))).isTrue();

        c.net.node("c").crash();
        assertThat(c.runUntil(() -> c.members.get("a").member("c") == null, Duration.ofSeconds(120)))
                .as("c declared dead, then forgotten after GossipToTheDeadTime").isTrue();

        assertThat(a.about("c")).extracting(Seen::event).containsExactly("join", "suspect", "leave", "forget");
        // the listener ran before the view changed: it still saw the previous state (or nothing)
        assertThat(a.about("c")).extracting(Seen::eventState, Seen::visibleState).containsExactly(
                org.assertj.core.groups.Tuple.tuple(MemberState.ALIVE, null),
                org.assertj.core.groups.Tuple.tuple(MemberState.SUSPECT, MemberState.ALIVE),
                org.assertj.core.groups.Tuple.tuple(MemberState.DEAD, MemberState.SUSPECT),
                org.assertj.core.groups.Tuple.tuple(MemberState.DEAD, MemberState.DEAD));
    }

    @Test
    void aLeaveIsOneEventAndAStalledNodeThatRefutesRecovers() {
        SimCluster c = new SimCluster(12, GossipConfig::lan);
        Recorder a = observe(c, "a");
        c.start("b");
        c.start("c");
        c.members.get("b").join(List.of(c.net.node("a").address()));
        c.members.get("c").join(List.of(c.net.node("a").address()));
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(10))).isTrue();

        // b stalls long enough for a failed probe (round robin plus a probe interval), and shorter
        // than a probe plus the suspicion timeout, so it refutes in time
        for (int attempt = 0; attempt < 5 && a.about("b").stream().noneMatch(s -> s.event().equals("recover")); attempt++) {
            c.net.node("b").pause(Duration.ofSeconds(3));
            c.net.runFor(Duration.ofSeconds(10));
        }
        assertThat(a.about("b")).extracting(Seen::event).as("b suspected, then refuted, never declared dead")
                .startsWith("join", "suspect", "recover").doesNotContain("leave");
        assertThat(a.about("b")).filteredOn(s -> s.event().equals("recover"))
                .extracting(Seen::visibleState).containsOnly(MemberState.SUSPECT);

        c.members.get("c").leave(Duration.ofSeconds(5));
        assertThat(c.runUntil(() -> c.allSee("c", MemberState.LEFT), Duration.ofSeconds(10))).isTrue();
        assertThat(a.about("c")).extracting(Seen::event).containsExactly("join", "leave");
        assertThat(a.about("c").get(1).eventState()).isEqualTo(MemberState.LEFT);
        assertThat(a.about("c").get(1).visibleState()).isEqualTo(MemberState.ALIVE);
    }

    @Test
    void aMetaChangeIsAnUpdateSeenBeforeTheView() {
        SimCluster c = new SimCluster(13, GossipConfig::lan);
        Recorder a = observe(c, "a");
        c.start("b", b -> b.metadataProvider(limit -> new byte[] {1}));
        c.members.get("b").join(List.of(c.net.node("a").address()));
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(10))).isTrue();
        c.members.get("b").updateMeta(new byte[] {2}, Duration.ofSeconds(5));
        assertThat(c.runUntil(() -> a.about("b").size() == 2, Duration.ofSeconds(10))).isTrue();
        assertThat(a.about("b")).extracting(Seen::event).containsExactly("join", "update");
        assertThat(a.updateMeta).hasSize(1);
        assertThat(a.updateMeta.get(0)[0]).as("the event's meta").containsExactly(2);
        assertThat(a.updateMeta.get(0)[1]).as("what members() showed during the event").containsExactly(1);
        assertThat(c.members.get("a").member("b").meta()).containsExactly(2);
    }
}
