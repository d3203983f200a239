package dev.switchboard.server;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The reverse proxies and load balancers whose {@code Forwarded} and {@code X-Forwarded-*}
 * headers the server believes: single addresses and CIDR ranges, IPv4 and IPv6. Headers from any
 * other peer are ignored, since anyone can send them.
 *
 * <pre>{@code
 * TrustedProxies proxies = TrustedProxies.of(List.of("10.0.0.0/8", "127.0.0.1", "fd00::/8"));
 * proxies.trusts("10.1.2.3");    // true
 * proxies.trusts("192.0.2.7");   // false
 * }</pre>
 */
public final class TrustedProxies {
    /** Trusts nobody: every peer is the client. */
    public static final TrustedProxies NONE = new TrustedProxies(List.of(), List.of());

    private final List<String> written;
    private final List<Range> ranges;

    private record Range(byte[] network, int prefixBits) {
        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int whole = prefixBits / 8;
            for (int i = 0; i < whole; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefixBits % 8;
            int mask = (0xff << (8 - rest)) & 0xff;
            return rest == 0 || (address[whole] & mask) == (network[whole] & mask);
        }
    }

    private TrustedProxies(List<String> written, List<Range> ranges) {
        this.written = written;
        this.ranges = ranges;
    }

    /**
     * @param addressesAndRanges IP literals ({@code "10.0.0.5"}, {@code "::1"}) and CIDR ranges
     *                           ({@code "10.0.0.0/8"}); host names are refused, as they would need DNS
     * @throws IllegalArgumentException naming the entry that is neither
     */
    public static TrustedProxies of(List<String> addressesAndRanges) {
        List<Range> ranges = new ArrayList<>();
        for (String entry : addressesAndRanges) {
            ranges.add(parse(entry));
        }
        return new TrustedProxies(List.copyOf(addressesAndRanges), List.copyOf(ranges));
    }

    private static Range parse(String entry) {
        String trimmed = entry.trim();
        int slash = trimmed.indexOf('/');
        String address = slash < 0 ? trimmed : trimmed.substring(0, slash);
        byte[] bytes = literal(address);
        if (bytes == null) {
            throw new IllegalArgumentException("not an IP address or CIDR range: \"" + entry + "\"");
        }
        int bits = bytes.length * 8;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(trimmed.substring(slash + 1));
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (bits < 0 || bits > bytes.length * 8) {
                throw new IllegalArgumentException("bad prefix length in \"" + entry + "\"");
            }
        }
        return new Range(bytes, bits);
    }

    /** The bytes of an IP literal, or {@code null} for anything else (never a DNS lookup). */
    static byte[] literal(String address) {
        String bracketed = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1) : address;
        // Containers report a link-local peer with its zone (fe80::1%eth0): it names the
        // interface, not the address, and a range matches the address alone.
        int zone = bracketed.indexOf('%');
        String bare = zone > 0 && zone < bracketed.length() - 1 && bracketed.indexOf(':') >= 0 ? bracketed.substring(0, zone) : bracketed;
        if (bare.isEmpty() || !bare.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':')
                || (bare.indexOf(':') < 0 && !bare.chars().allMatch(c -> Character.isDigit(c) || c == '.'))) {
            return null;
        }
        try {
            // A literal: no lookup. An IPv4-mapped IPv6 literal comes back as IPv4, as peers do.
            return InetAddress.getByName(bare).getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Whether {@code text} is an IPv4 or IPv6 literal (never a DNS lookup). */
    public static boolean isAddress(String text) {
        return text != null && literal(text) != null;
    }

    /** Whether {@code address}, an IP literal, is one of these proxies; {@code false} for anything else. */
    public boolean trusts(String address) {
        if (ranges.isEmpty() || address == null) {
            return false;
        }
        byte[] bytes = literal(address.trim());
        return bytes != null && trusts(bytes);
    }

    /** Whether this address is one of these proxies. */
    public boolean trusts(InetAddress address) {
        return !ranges.isEmpty() && trusts(address.getAddress());
    }

    private boolean trusts(byte[] bytes) {
        for (Range range : ranges) {
            if (range.contains(bytes)) {
                return true;
            }
        }
        return false;
    }

    /** Whether no proxy is trusted. */
    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    @Override
    public String toString() {
        return written.toString();
    }
}
