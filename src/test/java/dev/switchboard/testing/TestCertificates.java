package dev.switchboard.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority made at run time (Bouncy Castle signs, the JDK makes the keys), and
 * server certificates it signs for {@code localhost} and {@code 127.0.0.1}, written as PEM files
 * (chain, PKCS#8 key) and a PKCS#12 keystore in a folder of their own.
 *
 * <pre>{@code
 * TestCertificates ca = TestCertificates.create();
 * TestCertificates.Issued server = ca.issue("server");
 * StandaloneOptions.builder().tls(TlsIdentity.pem(server.chain(), server.key()));
 * ClientOptions.builder().sslContext(ca.trustingContext());
 * }</pre>
 */
public final class TestCertificates {
    private static final char[] PASSWORD = "changeit".toCharArray();
    private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());

    private final Path folder;
    private final KeyPair caKeys;
    private final X509Certificate caCertificate;
    private final Path caPem;

    /** Files of one server certificate; {@code commonName} tells renewed ones apart. */
    public record Issued(Path chain, Path key, Path pkcs12, char[] password, String commonName) {
    }

    private TestCertificates(Path folder, KeyPair caKeys, X509Certificate caCertificate, Path caPem) {
        this.folder = folder;
        this.caKeys = caKeys;
        this.caCertificate = caCertificate;
        this.caPem = caPem;
    }

    public static TestCertificates create() throws IOException {
        Path folder = Files.createTempDirectory("switchboard-tls");
        KeyPair keys = keyPair();
        X500Name name = new X500Name("CN=Switchboard Test CA");
        X509Certificate certificate = sign(new JcaX509v3CertificateBuilder(name, serial(), from(), until(), name, keys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true)), keys);
        Path pem = folder.resolve("ca.pem");
        Files.writeString(pem, pem("CERTIFICATE", encoded(certificate)));
        return new TestCertificates(folder, keys, certificate, pem);
    }

    /** The CA certificate, PEM. */
    public Path caPem() {
        return caPem;
    }

    /** A server certificate for localhost and 127.0.0.1 signed by this CA, under {@code name} in the folder. */
    public Issued issue(String name) throws IOException {
        String commonName = "localhost " + name;
        KeyPair keys = keyPair();
        X509Certificate certificate = sign(new JcaX509v3CertificateBuilder(caCertificate, serial(), from(), until(),
                new X500Name("CN=" + commonName), keys.getPublic())
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth)), caKeys);
        Path chain = folder.resolve(name + "-chain.pem");
        Files.writeString(chain, pem("CERTIFICATE", encoded(certificate)) + pem("CERTIFICATE", encoded(caCertificate)));
        Path key = folder.resolve(name + "-key.pem");
        Files.writeString(key, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
        Path pkcs12 = folder.resolve(name + ".p12");
        try (OutputStream out = Files.newOutputStream(pkcs12)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", keys.getPrivate(), PASSWORD, new Certificate[] {certificate, caCertificate});
            store.store(out, PASSWORD);
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
        return new Issued(chain, key, pkcs12, PASSWORD.clone(), commonName);
    }

    private static KeyPair keyPair() throws IOException {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer) throws IOException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException(e);
        }
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIALS.incrementAndGet());
    }

    private static Date from() {
        return Date.from(Instant.now().minus(Duration.ofHours(1)));
    }

    private static Date until() {
        return Date.from(Instant.now().plus(Duration.ofDays(2)));
    }

    private static byte[] encoded(X509Certificate certificate) throws IOException {
        try {
            return certificate.getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** A client context that trusts this CA only. */
    public SSLContext trustingContext() throws IOException {
        try {
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            trusted.setCertificateEntry("ca", caCertificate);
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    /**
     * The base64 SHA-256 of a certificate's public key (its SPKI), as Chromium's
     * {@code --ignore-certificate-errors-spki-list} takes it.
     */
    public static String spkiHash(Path chain) throws IOException {
        try (InputStream in = Files.newInputStream(chain)) {
            List<Certificate> certificates = new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
            byte[] spki = ((X509Certificate) certificates.get(0)).getPublicKey().getEncoded();
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(spki));
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

}
