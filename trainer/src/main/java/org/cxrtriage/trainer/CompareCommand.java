package org.cxrtriage.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Paired comparison of two evaluations of the same images (their cases.csv): ROC AUC of each "
                + "and candidate - baseline with a 95% patient-bootstrap CI (both models resampled together), for "
                + "every score column both have (score, lungsHidden, lungsOnly), on all images and within ieee8023.")
final class CompareCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--baseline", required = true, description = "evaluation directory (trainer evaluate --out)") Path baseline;
    @Option(names = "--candidate", required = true, description = "evaluation directory of the same images") Path candidate;
    @Option(names = "--manifest", description = "patient ids for the bootstrap (default: $CXR_MANIFEST or "
            + "../shared/data/cxr/manifest.csv)") Path manifest;
    @Option(names = "--bootstrap", defaultValue = "2000") int resamples;
    @Option(names = "--seed", defaultValue = "42") long seed;
    @Option(names = "--out", description = "also write the comparison here as JSON") Path out;

    /** One cases.csv: its score columns by name, rows in file order. */
    record Cases(List<String> files, List<String> sources, boolean[] positive, Map<String, double[]> scores) {
        static Cases read(Path csv) throws IOException {
            List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
            List<String> header = Manifest.parseLine(lines.get(0));
            List<String[]> rows = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                if (!line.isBlank()) {
                    rows.add(Manifest.parseLine(line).toArray(String[]::new));
                }
            }
            List<String> files = rows.stream().map(r -> r[0]).toList();
            boolean[] positive = new boolean[rows.size()];
            for (int i = 0; i < positive.length; i++) {
                positive[i] = rows.get(i)[2].equals(Manifest.POSITIVE_LABEL);
            }
            Map<String, double[]> scores = new LinkedHashMap<>();
            for (int c = 0; c < header.size(); c++) {
                if (header.get(c).equals("score") || c > header.indexOf("call")) {
                    int col = c;
                    scores.put(header.get(c), rows.stream().mapToDouble(r -> Double.parseDouble(r[col])).toArray());
                }
            }
            return new Cases(files, rows.stream().map(r -> r[1]).toList(), positive, scores);
        }
    }

    @Override
    public Integer call() throws Exception {
        Cases a = Cases.read(baseline.resolve(EvaluateCommand.CASES_FILE));
        Cases b = Cases.read(candidate.resolve(EvaluateCommand.CASES_FILE));
        if (!a.files().equals(b.files())) {
            throw new CommandLine.ParameterException(spec.commandLine(), "the two evaluations scored different "
                    + "images (or in another order): compare evaluations of the same split");
        }
        Map<String, String> patientOf = new HashMap<>();
        for (Manifest.Entry e : Manifest.read(TrainerCli.manifestPath(manifest)).entries()) {
            patientOf.put(e.file(), e.patientId());
        }
        String[] patients = a.files().stream().map(f -> {
            String p = patientOf.get(f);
            if (p == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), f + " is not in the manifest");
            }
            return p;
        }).toArray(String[]::new);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("baseline", baseline.toString());
        report.put("candidate", candidate.toString());
        report.put("ci", "95% percentile bootstrap over patients (" + resamples + " resamples, seed " + seed
                + "), both models on the same resampled images");
        for (String column : a.scores().keySet()) {
            if (b.scores().containsKey(column)) {
                Map<String, Object> subsets = new LinkedHashMap<>();
                subsets.put("all", compare(a.scores().get(column), b.scores().get(column), a.positive(), patients,
                        i -> true));
                subsets.put("within_" + Evaluation.HARD_SOURCE, compare(a.scores().get(column),
                        b.scores().get(column), a.positive(), patients,
                        i -> a.sources().get(i).equals(Evaluation.HARD_SOURCE)));
                report.put(column, subsets);
            }
        }
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
        System.out.println(json);
        if (out != null) {
            Files.writeString(out, json);
        }
        return 0;
    }

    /** ROC AUC of both on the cases {@code keep} selects, and their paired difference (candidate - baseline). */
    private Map<String, Object> compare(double[] scoresA, double[] scoresB, boolean[] labels, String[] patients,
            java.util.function.IntPredicate keep) {
        int[] idx = java.util.stream.IntStream.range(0, labels.length).filter(keep).toArray();
        double[] sa = Metrics.pick(scoresA, idx);
        double[] sb = Metrics.pick(scoresB, idx);
        boolean[] l = Metrics.pick(labels, idx);
        String[] g = java.util.Arrays.stream(idx).mapToObj(i -> patients[i]).toArray(String[]::new);
        Map<String, Function<int[], Double>> fns = new LinkedHashMap<>();
        fns.put("baselineRocAuc", r -> Metrics.rocAuc(Metrics.pick(sa, r), Metrics.pick(l, r)));
        fns.put("candidateRocAuc", r -> Metrics.rocAuc(Metrics.pick(sb, r), Metrics.pick(l, r)));
        fns.put("difference", r -> Metrics.rocAuc(Metrics.pick(sb, r), Metrics.pick(l, r))
                - Metrics.rocAuc(Metrics.pick(sa, r), Metrics.pick(l, r)));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("n", idx.length);
        out.put("positives", java.util.stream.IntStream.range(0, l.length).filter(i -> l[i]).count());
        Metrics.bootstrap(idx.length, g, fns, resamples, seed).forEach((name, e) -> out.put(name,
                Evaluation.estimate(e)));
        return out;
    }
}
