package dev.switchboard.server;

import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * What the per-address caps count a client by. An IPv6 client usually holds a whole /64 and may
 * take a new address of it for each connection, so it is counted by its network, as rate
 * limiters at CDNs do; an IPv4 address is scarce and counts as itself, and so does one written
 * IPv4-mapped ({@code ::ffff:198.51.100.7}), the same client seen through a dual-stack socket.
 */
final class AddressKey {
    private AddressKey() {
    }

    /**
     * {@code 2001:db8:1:2::/64} for {@code 2001:db8:1:2::7} at a prefix of 64 (the address alone
     * at 128), {@code 198.51.100.7} for that address and {@code ::ffff:198.51.100.7}; what is no IP
     * literal (an obfuscated {@code Forwarded} node such as {@code _hidden}) as written; "" for null.
     */
    static String of(String address, int ipv6PrefixLength) {
        if (address == null) {
            return "";
        }
        byte[] bytes = TrustedProxies.literal(address.trim());
        if (bytes == null) {
            return address;
        }
        if (bytes.length == 4) {
            return IntStream.range(0, 4).mapToObj(i -> String.valueOf(bytes[i] & 0xff)).collect(Collectors.joining("."));
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            int bits = Math.max(0, Math.min(16, ipv6PrefixLength - 16 * i));
            int mask = (0xffff << (16 - bits)) & 0xffff;
            groups[i] = ((bytes[2 * i] & 0xff) << 8 | (bytes[2 * i + 1] & 0xff)) & mask;
        }
        return compressed(groups) + (ipv6PrefixLength == 128 ? "" : "/" + ipv6PrefixLength);
    }

    /** The groups as RFC 5952 writes them: the first longest run of two or more zero groups as {@code ::}. */
    private static String compressed(int[] groups) {
        int runStart = -1;
        int runLength = 1;
        for (int i = 0; i < groups.length; i++) {
            int end = i;
            while (end < groups.length && groups[end] == 0) {
                end++;
            }
            if (end - i > runLength) {
                runStart = i;
                runLength = end - i;
            }
        }
        if (runStart < 0) {
            return hex(groups, 0, groups.length);
        }
        return hex(groups, 0, runStart) + "::" + hex(groups, runStart + runLength, groups.length);
    }

    private static String hex(int[] groups, int from, int to) {
        return IntStream.range(from, to).mapToObj(i -> Integer.toHexString(groups[i])).collect(Collectors.joining(":"));
    }
}
