package dev.switchboard.transport.grizzly;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.LongSupplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The certificate and key the standalone server serves {@code https://} and {@code wss://} with:
 * a PEM chain with a PKCS#8 PEM key (what Let's Encrypt and most tools write), or a PKCS#12
 * keystore. The files are read again when they change, at most once a second and only when a
 * client connects: a renewed certificate is served to new connections without a restart, and a
 * half-written or broken file keeps the previous one in use (with a warning).
 *
 * <pre>{@code
 * StandaloneOptions.builder().port(8443)
 *         .tls(TlsIdentity.pem(Path.of("/etc/letsencrypt/live/example.com/fullchain.pem"),
 *                              Path.of("/etc/letsencrypt/live/example.com/privkey.pem")))
 *         .build();
 * }</pre>
 */
public final class TlsIdentity {
    /** TLS 1.2 and 1.3 only, each with the JDK's default suites. */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    private static final System.Logger LOG = System.getLogger(TlsIdentity.class.getName());
    private static final long RECHECK_NANOS = 1_000_000_000L;

    private final List<Path> files;
    private final Loader loader;

    /** Reads the files into a key manager. */
    private interface Loader {
        X509ExtendedKeyManager load() throws IOException, GeneralSecurityException;
    }

    private TlsIdentity(List<Path> files, Loader loader) {
        this.files = files;
        this.loader = loader;
    }

    /**
     * @param chain the certificate chain, the server's own first (e.g. {@code fullchain.pem})
     * @param key   its private key, unencrypted PKCS#8 ({@code -----BEGIN PRIVATE KEY-----}); convert
     *              another form with {@code openssl pkcs8 -topk8 -nocrypt -in key.pem -out pkcs8.pem}
     */
    public static TlsIdentity pem(Path chain, Path key) {
        return new TlsIdentity(List.of(chain, key), () -> {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", privateKey(key), new char[0], certificates(chain));
            return keyManager(store, new char[0]);
        });
    }

    /** A PKCS#12 keystore holding one key entry with its chain. */
    public static TlsIdentity pkcs12(Path keystore, char[] password) {
        char[] copy = password.clone();
        return new TlsIdentity(List.of(keystore), () -> {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                store.load(in, copy);
            }
            return keyManager(store, copy);
        });
    }

    /**
     * A server context for these files, loaded now so that a bad file fails the start.
     *
     * @throws IllegalArgumentException naming the file that could not be read
     */
    SSLContext serverContext(LongSupplier nanoClock) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new X509ExtendedKeyManager[] {new Reloading(nanoClock)}, null, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private X509ExtendedKeyManager loadOrFail() {
        try {
            return loader.load();
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read the TLS certificate or key from " + files + ": " + e.getMessage(), e);
        }
    }

    private static X509Certificate[] certificates(Path chain) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(chain)) {
            List<X509Certificate> certificates = new ArrayList<>();
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                certificates.add((X509Certificate) certificate);
            }
            if (certificates.isEmpty()) {
                throw new GeneralSecurityException("no certificate in " + chain);
            }
            return certificates.toArray(X509Certificate[]::new);
        }
    }

    private static PrivateKey privateKey(Path key) throws IOException, GeneralSecurityException {
        String pem = Files.readString(key);
        String begin = "-----BEGIN PRIVATE KEY-----";
        int start = pem.indexOf(begin);
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (start < 0 || end < start) {
            throw new GeneralSecurityException(key + " holds no unencrypted PKCS#8 key (BEGIN PRIVATE KEY);"
                    + " convert it with: openssl pkcs8 -topk8 -nocrypt -in " + key + " -out key-pkcs8.pem");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(start + begin.length(), end));
        GeneralSecurityException last = null;
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new GeneralSecurityException("unsupported key in " + key, last);
    }

    private static X509ExtendedKeyManager keyManager(KeyStore store, char[] password) throws GeneralSecurityException {
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, password);
        for (var manager : factory.getKeyManagers()) {
            if (manager instanceof X509ExtendedKeyManager x509) {
                return x509;
            }
        }
        throw new GeneralSecurityException("no X.509 key manager");
    }

    /**
     * The key manager of the files as they are now. Threads: any handshake's; the fields below
     * are guarded by {@code this}.
     */
    private final class Reloading extends X509ExtendedKeyManager {
        private final LongSupplier nanoClock;
        private X509ExtendedKeyManager current;
        private List<FileTime> loadedVersions;
        private long checkedAt;

        Reloading(LongSupplier nanoClock) {
            this.nanoClock = nanoClock;
            this.loadedVersions = versions();
            this.current = loadOrFail();
            this.checkedAt = nanoClock.getAsLong();
        }

        private synchronized X509ExtendedKeyManager current() {
            long now = nanoClock.getAsLong();
            if (now - checkedAt >= RECHECK_NANOS) {
                checkedAt = now;
                List<FileTime> versions = versions();
                if (!versions.equals(loadedVersions)) {
                    // Tried once per change: a file still being written changes again when complete.
                    loadedVersions = versions;
                    try {
                        current = loader.load();
                        LOG.log(System.Logger.Level.INFO, "TLS certificate reloaded from {0}", files);
                    } catch (IOException | GeneralSecurityException | RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "TLS certificate in " + files
                                + " changed but cannot be read; still serving the previous one: " + e.getMessage());
                    }
                }
            }
            return current;
        }

        private List<FileTime> versions() {
            List<FileTime> versions = new ArrayList<>();
            for (Path file : files) {
                try {
                    versions.add(Files.getLastModifiedTime(file));
                } catch (IOException e) {
                    versions.add(FileTime.fromMillis(-1));
                }
            }
            return versions;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return current().chooseEngineServerAlias(keyType, issuers, engine);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return current().chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return current().getServerAliases(keyType, issuers);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return current().getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return current().getPrivateKey(alias);
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
        }
    }
}
