package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** What the caps per client address count, as the warnings and the dashboard name it. */
class AddressKeyTest {
    private static String key(int ipv6PrefixLength, String address) {
        return SwitchboardOptions.builder().ipv6PrefixLength(ipv6PrefixLength).build().addressKey(address);
    }

    @Test
    void anIpv6AddressCountsByItsNetworkWrittenShortest() {
        assertEquals("2001:db8:1:2::/64", key(64, "2001:DB8:1:2:ff:0:0:7"));
        assertEquals("2001:db8:1::/56", key(56, "2001:db8:1:ff::1"));
        assertEquals("fe80::/64", key(64, "fe80::1%eth0"));
        assertEquals("::/0", key(0, "2001:db8::1"));
        // At 128 the address alone; the first longest run of zeros is the one written ::.
        assertEquals("2001:db8:0:0:1::", key(128, "2001:db8:0:0:1:0:0:0"));
        assertEquals("1:0:2:0:3:0:4:0", key(128, "1:0:2:0:3:0:4:0"));
    }

    @Test
    void anIpv4AddressCountsAsItselfHoweverWritten() {
        assertEquals("198.51.100.7", key(64, "198.51.100.7"));
        assertEquals("198.51.100.7", key(64, "::ffff:198.51.100.7"));
    }

    @Test
    void whatIsNoAddressCountsAsWritten() {
        assertEquals("_hidden", key(64, "_hidden"));
        assertEquals("unknown", key(64, "unknown"));
        assertEquals("", key(64, null));
    }

    @Test
    void thePrefixLengthIsOneOfAnIpv6Address() {
        assertThrows(IllegalArgumentException.class, () -> key(129, "::1"));
        assertThrows(IllegalArgumentException.class, () -> key(-1, "::1"));
    }
}
