package io.hacluster.gossip;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/** A simulated cluster of {@link Memberlist} nodes for virtual-time tests. */
final class SimCluster {

    final SimulatedNetwork net;
    final Map<String, Memberlist> members = new LinkedHashMap<>();
    /** Every leave event: observer -> names it saw leave, with the state it reported. */
    final Map<String, List<Event>> leaves = new LinkedHashMap<>();
    /** Every join event: observer -> members it saw join. */
    final Map<String, List<Event>> joins = new LinkedHashMap<>();
    /** Every update event: observer -> members it saw change metadata. */
    final Map<String, List<Event>> updates = new LinkedHashMap<>();
    /** Every suspect event: observer -> members it saw become suspect. */
    final Map<String, List<Event>> suspects = new LinkedHashMap<>();

    /** One membership event as an observer saw it, with the virtual time. */
    record Event(Member member, long atNanos) {
    }
    private final Function<String, GossipConfig> configFor;

    SimCluster(long seed, Function<String, GossipConfig> configFor) {
        this.net = new SimulatedNetwork(seed);
        this.configFor = configFor;
    }

    static String name(int i) {
        return String.format("n%03d", i);
    }

    Memberlist start(String name) {
        return start(name, b -> { });
    }

    Memberlist start(String name, java.util.function.Consumer<Memberlist.Builder> customize) {
        SimulatedNetwork.SimNode node = net.addNode(name);
        List<Event> myLeaves = new ArrayList<>();
        List<Event> myJoins = new ArrayList<>();
        List<Event> myUpdates = new ArrayList<>();
        List<Event> mySuspects = new ArrayList<>();
        suspects.put(name, mySuspects);
        leaves.put(name, myLeaves);
        joins.put(name, myJoins);
        updates.put(name, myUpdates);
        Memberlist.Builder b = Memberlist.builder(configFor.apply(name))
                .transport(node.transport())
                .scheduler(node.scheduler())
                .random(node.random())
                .membershipListener(new MembershipListener() {
                    @Override
                    public void onLeave(Member member) {
                        myLeaves.add(new Event(member, net.nanoTime()));
                    }

                    @Override
                    public void onJoin(Member member) {
                        myJoins.add(new Event(member, net.nanoTime()));
                    }

                    @Override
                    public void onUpdate(Member member) {
                        myUpdates.add(new Event(member, net.nanoTime()));
                    }

                    @Override
                    public void onSuspect(Member member) {
                        mySuspects.add(new Event(member, net.nanoTime()));
                    }
                });
        customize.accept(b);
        Memberlist m = b.build();
        members.put(name, m);
        return m;
    }

    /** Starts n nodes n000.. and has each join through node 0. Returns virtual time spent. */
    void startAndJoin(int n) {
        for (int i = 0; i < n; i++) {
            start(name(i));
        }
        var seed = List.of(net.node(name(0)).address());
        for (int i = 1; i < n; i++) {
            members.get(name(i)).join(seed);
            net.runFor(Duration.ofMillis(10));
        }
    }

    /** Live (not crashed) node names. */
    Set<String> running() {
        return net.nodes().stream().filter(n -> !n.isCrashed()).map(SimulatedNetwork.SimNode::name)
                .collect(Collectors.toSet());
    }

    /** True when every running node lists exactly the running nodes as alive. */
    boolean converged() {
        Set<String> expected = running();
        for (String n : expected) {
            Set<String> alive = members.get(n).members().stream()
                    .filter(m -> m.state() == MemberState.ALIVE).map(Member::name).collect(Collectors.toSet());
            if (!alive.equals(expected)) {
                return false;
            }
        }
        return true;
    }

    /** True when every running node other than {@code target} sees it in {@code state} (or forgot it). */
    boolean allSee(String target, MemberState state) {
        for (String n : running()) {
            if (n.equals(target)) {
                continue;
            }
            Member m = members.get(n).member(target);
            if (m == null || m.state() != state) {
                return false;
            }
        }
        return true;
    }

    /** Names that {@code observer} has seen leave (dead or left), in order. */
    List<String> leftNames(String observer) {
        return leaves.get(observer).stream().map(e -> e.member().name()).toList();
    }

    /** Every leave event about {@code target} seen by anyone. */
    List<Event> leavesOf(String target) {
        List<Event> out = new ArrayList<>();
        leaves.forEach((obs, evs) -> evs.stream().filter(e -> e.member().name().equals(target)).forEach(out::add));
        return out;
    }

    /** Fails if any observer saw any of {@code names} as dead or left. */
    List<String> falseDeaths(Set<String> names) {
        List<String> out = new ArrayList<>();
        leaves.forEach((obs, evs) -> evs.stream().filter(e -> names.contains(e.member().name()))
                .forEach(e -> out.add(obs + " saw " + e.member().name() + " " + e.member().state()
                        + " at " + Duration.ofNanos(e.atNanos()))));
        return out;
    }

    boolean runUntil(java.util.function.BooleanSupplier c, Duration max) {
        return net.runUntil(c, Duration.ofMillis(50), max);
    }
}
