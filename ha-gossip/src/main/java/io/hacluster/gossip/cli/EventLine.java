package io.hacluster.gossip.cli;

import io.hacluster.gossip.Member;

/** Formats one membership event as the agent's JSON line. No JSON library: four string fields. */
final class EventLine {
    private EventLine() {
    }

    static String format(String event, Member member) {
        String address = member.address().getAddress().getHostAddress() + ":" + member.address().getPort();
        return "{\"event\":\"" + event + "\",\"name\":" + quote(member.name())
                + ",\"address\":" + quote(address) + "}";
    }

    /** A JSON string literal; names come from the network, so every control character is escaped. */
    static String quote(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
