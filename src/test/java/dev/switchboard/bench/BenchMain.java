package dev.switchboard.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;

/**
 * The benchmark harness: starts each target server in its own process, runs the scenarios
 * against it with the load generator in this process, and prints the raw figures and the ratios
 * (docs/BENCHMARKS.md). Run it with {@code bench/run.sh}.
 *
 * <pre>
 * bench/run.sh [--targets switchboard,raw,switchboard-tomcat,raw-tomcat,switchboard-jetty,raw-jetty,socketio,floor,switchboard-norecovery,
 *                switchboard-sio,netty-socketio,socketio-java,switchboard-redis1,switchboard-redis2,socketio-redis,socketio-streams]
 *              [--scenarios S1,S2,S3,S4,S5,S6,S7] [--container-scenarios S1,S3] [--size full|smoke]
 *              [--out target/bench] [--no-pin] [--jfr]
 * </pre>
 */
public final class BenchMain {

    /**
     * What to run; {@link #parse} reads it from the command line.
     *
     * @param scenarios          what runs on the Grizzly and Node targets
     * @param containerScenarios what runs on the Tomcat and Jetty targets
     */
    record Options(List<Target> targets, Set<String> scenarios, Set<String> containerScenarios, Scenarios.Sizes sizes,
                   String sizeName, Path out, boolean pin, boolean jfr) {
        static final String USAGE = "usage: [--targets " + Target.ids() + "] [--scenarios S1,...,S7]"
                + " [--container-scenarios S1,...,S7] [--size full|smoke] [--out DIR] [--no-pin] [--jfr]";

        static Options parse(String[] args) {
            List<Target> targets = Target.DEFAULTS;
            Set<String> scenarios = DEFAULT_SCENARIOS;
            Set<String> containerScenarios = null;
            String size = "full";
            Path out = Path.of("target", "bench");
            boolean pin = true;
            boolean jfr = false;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--targets" -> targets = Arrays.stream(args[++i].split(",")).map(Target::byId).toList();
                    case "--scenarios" -> {
                        scenarios = scenarios(args[++i]);
                        containerScenarios = containerScenarios == null ? scenarios : containerScenarios;
                    }
                    case "--container-scenarios" -> containerScenarios = scenarios(args[++i]);
                    case "--size" -> size = args[++i];
                    case "--out" -> out = Path.of(args[++i]);
                    case "--no-pin" -> pin = false;
                    case "--jfr" -> jfr = true;
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + "; " + USAGE);
                }
            }
            Scenarios.Sizes sizes = switch (size) {
                case "full" -> Scenarios.Sizes.full();
                case "smoke" -> Scenarios.Sizes.smoke();
                default -> throw new IllegalArgumentException("--size is full or smoke");
            };
            return new Options(targets, scenarios, containerScenarios == null ? CONTAINER_DEFAULT : containerScenarios,
                    sizes, size, out, pin && LaunchedServer.canPin(), jfr);
        }

        private static Set<String> scenarios(String list) {
            return new LinkedHashSet<>(Arrays.asList(list.toUpperCase().split(",")));
        }

        /** The scenarios selected for a target. */
        Set<String> scenariosFor(Target target) {
            return target.container == null ? scenarios : containerScenarios;
        }
    }

    static final Set<String> ALL_SCENARIOS = Set.of("S1", "S2", "S3", "S4", "S5", "S6", "S7");
    /**
     * What runs unless told otherwise: S6, a soak of a minute or more per target, and S7, which
     * asks one question of the send path (what a higher rate per connection costs), only when asked for.
     */
    static final Set<String> DEFAULT_SCENARIOS = Set.of("S1", "S2", "S3", "S4", "S5");
    /**
     * What the Tomcat and Jetty targets run unless told otherwise, to keep the default run within
     * about 8 minutes (every scenario on all seven targets takes about 10): the idle footprint and
     * the fan-out, where the container's own cost shows most. S2, S4 and S5 run on the Grizzly
     * targets and socket.io; {@code --container-scenarios S1,S2,S3,S4,S5} runs them everywhere.
     */
    static final Set<String> CONTAINER_DEFAULT = Set.of("S1", "S3");

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        long start = System.nanoTime();
        String startLoad = loadAverage();
        String machine = machine();
        System.out.println(machine);
        List<Results> results = run(options, System.out);
        String table = Report.table(results);
        String load = "Load average (1, 5, 15 min) at the start: " + startLoad + "; at the end: " + loadAverage();
        String report = "# Switchboard benchmark, " + OffsetDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)
                + "\n\n" + machine + "\n\n" + load + "\n\nSizes: " + describe(options.sizes())
                + "\n\nScenarios: " + sorted(options.scenarios()) + " on the Grizzly and Node targets, "
                + sorted(options.containerScenarios()) + " on the Tomcat and Jetty targets\n\n" + table
                + String.format("%nTotal run time: %.0f s%n", (System.nanoTime() - start) / 1e9);
        System.out.println();
        System.out.println(report);
        Files.createDirectories(options.out());
        Files.writeString(options.out().resolve("report.md"), report);
        System.out.println("written to " + options.out().resolve("report.md"));
        System.exit(0);
    }

    /**
     * Runs every selected scenario against every selected target. All servers run side by side
     * (idle but for the one under load), and each scenario runs on every target before the next
     * scenario starts, in a rotating order: on a noisy machine, what disturbs one target's run
     * is then as likely to disturb the others', which the ratios need.
     */
    static List<Results> run(Options options, PrintStream log) throws IOException, InterruptedException {
        log.println("sizes: " + describe(options.sizes()) + (options.pin() ? "; servers pinned to CPU 0" : "; not pinned"));
        List<Results> all = new ArrayList<>();
        List<LaunchedServer> servers = new ArrayList<>();
        List<Scenarios> runs = new ArrayList<>();
        try {
            for (Target target : options.targets()) {
                Results results = new Results(target);
                all.add(results);
                Path jfr = options.jfr() && target != Target.SOCKETIO ? options.out().toAbsolutePath().resolve(target.id + ".jfr") : null;
                try {
                    LaunchedServer server = target.start(Path.of("").toAbsolutePath(), options.out(), options.pin(), jfr);
                    servers.add(server);
                    results.banner = server.banner();
                    log.println(target.title + ": " + results.banner + " (pid " + server.pid() + ")");
                    runs.add(new Scenarios(options.sizes(), server, target, results, log, options.out()));
                } catch (IOException e) {
                    results.note("could not start: " + e.getMessage());
                    log.println(target.title + " could not start: " + e.getMessage());
                }
            }
            int turn = 0;
            for (String scenario : Scenarios.ORDER) {
                List<Scenarios> due = runs.stream().filter(r -> wanted(scenario, options.scenariosFor(r.target()))).toList();
                for (int i = 0; i < due.size(); i++) {
                    Scenarios run = due.get((i + turn) % due.size());
                    log.println("== " + scenario + " on " + run.target().title);
                    run.run(scenario, options.scenariosFor(run.target()));
                }
                turn += due.isEmpty() ? 0 : 1;
            }
        } finally {
            servers.forEach(LaunchedServer::close);
        }
        return all;
    }

    private static String sorted(Set<String> scenarios) {
        return String.join(",", new TreeSet<>(scenarios));
    }

    /** Whether a step of {@link Scenarios#ORDER} runs for a selection: W before anything but S1, S3 for S4. */
    private static boolean wanted(String step, Set<String> selected) {
        return step.equals("W") ? selected.stream().anyMatch(s -> !s.equals("S1"))
                : selected.contains(step) || step.equals("S3") && selected.contains("S4");
    }

    static String describe(Scenarios.Sizes s) {
        return String.format("S1 %d idle clients in %d rooms, %d waves; warm-up %.0f s; S2 %d clients, rates %s acks/s, %.1f s each,"
                        + " reference %.0f/s; S3/S4 %d clients in 1 room and in %d rooms, %.0f deliveries/s, %.1f s warm-up"
                        + " + %.1f s measured; S5 %d clients in %d rooms, %.0f publishes/s, %.0f ms outage; payload %d chars;"
                        + " S6 %d clients in %d rooms, a fifth staying, churn %s/s for %.0f s each, %.0f publishes/s;"
                        + " S7 %d clients each in %d of %d rooms, %.0f deliveries/s",
                s.idleClients(), s.idleRooms(), s.waves(), s.warmUpSeconds(), s.ackClients(), Arrays.toString(s.ackRates()), s.ackStepSeconds(),
                s.ackReferenceRate(), s.fanoutClients(), s.manyRooms(), s.deliveriesPerSecond(), s.warmSeconds(),
                s.measureSeconds(), s.stormClients(), s.stormRooms(), s.stormRate(), s.outageSeconds() * 1000, s.payloadChars(),
                s.churnClients(), s.churnRooms(), Arrays.toString(s.churnRates()), s.churnStepSeconds(), s.churnPublishRate(),
                s.busy().clients(), s.busy().roomsPerClient(), s.busy().rooms(), s.busy().deliveriesPerSecond());
    }

    /** The machine, for the report: cores, CPU model, memory, kernel, JDK, Node. */
    static String machine() {
        String model = "?";
        long cores = 0;
        String memory = "?";
        try {
            List<String> cpu = Files.readAllLines(Path.of("/proc/cpuinfo"));
            cores = cpu.stream().filter(l -> l.startsWith("processor")).count();
            model = cpu.stream().filter(l -> l.startsWith("model name")).findFirst().map(l -> l.split(":", 2)[1].trim()).orElse("?");
            memory = Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " ");
        } catch (IOException e) {
            // not Linux: leave the question marks
        }
        return String.format("Machine: %d cores (%s), %s; %s %s; JDK %s (%s, %s); Node %s; generator on %d core(s);"
                        + " CPU time accounting %s",
                cores, model, memory, System.getProperty("os.name"), System.getProperty("os.version"),
                System.getProperty("java.version"), System.getProperty("java.vm.name"), System.getProperty("java.vendor"),
                command("node", "--version"), Runtime.getRuntime().availableProcessors(), cpuAccounting());
    }

    /**
     * How the kernel splits CPU time into user and system. Sampled at each tick, it scales a
     * process's exact run time by the samples' ratio and never lets either part go down, so over a
     * phase of a second or two one part can show 0 while the other takes it all: the sum is exact,
     * the split only a rough guide.
     */
    private static String cpuAccounting() {
        try (var config = new GZIPInputStream(Files.newInputStream(Path.of("/proc/config.gz")))) {
            String text = new String(config.readAllBytes(), StandardCharsets.US_ASCII);
            if (text.contains("\nCONFIG_VIRT_CPU_ACCOUNTING_GEN=y")) {
                return "exact (user and system apart)";
            }
            if (text.contains("\nCONFIG_TICK_CPU_ACCOUNTING=y")) {
                return "sampled per tick (user and system apart are rough over one phase; their sum is exact)";
            }
        } catch (IOException e) {
            // no kernel configuration to read
        }
        return "unknown";
    }

    /** The system's load average: other work on the machine shows here. */
    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private static String command(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes()).trim();
            return process.waitFor() == 0 ? out : "not available";
        } catch (IOException e) {
            return "not available";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }
}
