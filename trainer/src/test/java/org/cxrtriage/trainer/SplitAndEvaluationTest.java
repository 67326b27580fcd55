package org.cxrtriage.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.cxrtriage.model.ModelInput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SplitAndEvaluationTest {
    private static Manifest manifest() {
        List<Manifest.Entry> es = new ArrayList<>();
        for (int p = 0; p < 60; p++) {
            String source = p % 3 == 0 ? "a" : "b";
            boolean positive = p % 2 == 0;
            for (int img = 0; img < 1 + p % 3; img++) {
                es.add(new Manifest.Entry("images/" + p + "_" + img + ".png", positive, source + ":" + p, "PA", source));
            }
        }
        return new Manifest(Path.of("/data"), es);
    }

    @Test
    void splitIsPatientLevelSeededAndRoundTrips(@TempDir Path dir) throws Exception {
        Manifest m = manifest();
        DataSplit a = DataSplit.create(m, 0.15, 0.15, 42);
        Map<String, DataSplit.Part> patientPart = new HashMap<>();
        for (Manifest.Entry e : m.entries()) {
            DataSplit.Part prev = patientPart.putIfAbsent(e.patientId(), a.partOf(e));
            assertThat(prev == null || prev == a.partOf(e)).as("patient %s in one split", e.patientId()).isTrue();
        }
        for (DataSplit.Part part : DataSplit.Part.values()) {
            List<Manifest.Entry> es = a.select(m, part);
            assertThat(es).isNotEmpty();
            assertThat(es).anyMatch(Manifest.Entry::positive).anyMatch(e -> !e.positive());
        }
        a.write(dir.resolve("split.csv"));
        DataSplit b = DataSplit.read(dir.resolve("split.csv"));
        DataSplit c = DataSplit.create(m, 0.15, 0.15, 42);
        for (Manifest.Entry e : m.entries()) {
            assertThat(b.partOf(e)).isEqualTo(a.partOf(e));
            assertThat(c.partOf(e)).isEqualTo(a.partOf(e));
        }
    }

    @Test
    void aHeldOutSourceIsTheWholeTestSplitAndTheRestIsSplitByPatient() {
        Manifest m = manifest();
        DataSplit split = DataSplit.holdingOutSource(m, "a", 0.2, 42);
        Map<String, DataSplit.Part> patientPart = new HashMap<>();
        for (Manifest.Entry e : m.entries()) {
            assertThat(split.partOf(e) == DataSplit.Part.TEST).as(e.file()).isEqualTo(e.source().equals("a"));
            DataSplit.Part prev = patientPart.putIfAbsent(e.patientId(), split.partOf(e));
            assertThat(prev == null || prev == split.partOf(e)).as("patient %s in one split", e.patientId()).isTrue();
        }
        assertThat(split.select(m, DataSplit.Part.VAL)).isNotEmpty().anyMatch(Manifest.Entry::positive)
                .anyMatch(e -> !e.positive());
        assertThat(split.select(m, DataSplit.Part.TRAIN)).isNotEmpty();
        assertThat(DataSplit.holdingOutSource(m, "a", 0.2, 42).select(m, DataSplit.Part.VAL))
                .isEqualTo(split.select(m, DataSplit.Part.VAL));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DataSplit.holdingOutSource(m, "nope", 0.2, 42))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nope");
        Manifest onlyA = new Manifest(m.directory(), m.entries().stream().filter(e -> e.source().equals("a")).toList());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DataSplit.holdingOutSource(onlyA, "a", 0.2, 42))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("only source");
    }

    @Test
    void manifestParsesQuotedFields(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("manifest.csv");
        Files.writeString(csv, "file,label,patient_id,view,source,finding,license\n"
                + "images/a.png,covid,s:1,PA,s,COVID-19,\"CC BY, 4.0\"\n"
                + "images/b.png,negative,s:2,AP,s,No Finding,x\n");
        Manifest m = Manifest.read(csv);
        assertThat(m.entries()).hasSize(2);
        assertThat(m.entries().get(0).positive()).isTrue();
        assertThat(m.entries().get(1).label()).isEqualTo("negative");
        assertThat(m.resolve(m.entries().get(0))).isEqualTo(dir.toAbsolutePath().resolve("images/a.png"));
    }

    @Test
    void samplingWeightsGiveEachLabelHalf() {
        Manifest m = manifest();
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < m.entries().size(); i++) {
            all.add(i);
        }
        for (String balance : List.of("label", "source")) {
            double[] w = ModelTraining.samplingWeights(m, all, balance);
            double pos = 0;
            double total = 0;
            for (int i = 0; i < w.length; i++) {
                total += w[i];
                if (m.entries().get(all.get(i)).positive()) {
                    pos += w[i];
                }
            }
            assertThat(total).isCloseTo(1.0, within(1e-9));
            assertThat(pos).isCloseTo(0.5, within(1e-9));
        }
    }

    @Test
    void knnExcludesSamePatientAndVotes() {
        float[] near = {0, 0};
        float[] far = {10, 10};
        List<Evaluation.Case> ref = List.of(
                new Evaluation.Case("r1", "p1", "s", true, 0, near),
                new Evaluation.Case("r2", "p2", "s", true, 0, near),
                new Evaluation.Case("r3", "p3", "s", false, 0, far),
                new Evaluation.Case("r4", "p4", "s", false, 0, far),
                new Evaluation.Case("r5", "p5", "s", false, 0, far));
        Evaluation.Case q = new Evaluation.Case("q", "p1", "s", true, 0, near);
        // k=2: p1 excluded -> nearest are r2 (pos) and one far negative -> 0.5
        assertThat(Evaluation.knnVotes(List.of(q), ref, 2)[0]).isEqualTo(0.5);
        Evaluation.Case q2 = new Evaluation.Case("q2", "p9", "s", true, 0, near);
        assertThat(Evaluation.knnVotes(List.of(q2), ref, 2)[0]).isEqualTo(1.0);
    }

    @Test
    void reportHasPerSourceAndWithinIeee() {
        List<Evaluation.Case> cases = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            cases.add(new Evaluation.Case("f" + i, "p" + i, i < 10 ? "ieee8023" : "nih", i % 2 == 0 && i < 10,
                    i % 2 == 0 ? 0.8 : 0.2, new float[] {i}));
        }
        Map<String, Object> r = Evaluation.report(cases, cases, 0.5, 4, 100, 1);
        assertThat(r).containsKeys("overall", "knn", "perSource", "within_ieee8023");
        @SuppressWarnings("unchecked")
        Map<String, Object> perSource = (Map<String, Object>) r.get("perSource");
        assertThat(perSource).containsKeys("ieee8023", "nih");
    }

    @Test
    void augmenterKeepsShapeAndIdentityWhenDisabled() {
        int n = 32;
        byte[] cxr = new byte[n * n];
        byte[] lung = new byte[n * n];
        for (int i = 0; i < cxr.length; i++) {
            cxr[i] = (byte) (i % 251);
            lung[i] = (byte) ((i % n) < n / 2 ? 255 : 0);
        }
        ModelInput in = new ModelInput(n, cxr, lung);
        assertThat(Augmenter.none().apply(in, new SplittableRandom(1))).isSameAs(in);
        ModelInput out = Augmenter.defaults().apply(in, new SplittableRandom(3));
        assertThat(out.size()).isEqualTo(n);
        // a pure flip mirrors the lung plane: left half bright becomes right half bright
        byte[] flipped = Augmenter.warp(lung, n, true, 0, 1, 0, 0);
        assertThat(flipped[0] & 0xFF).isZero();
        assertThat(flipped[n - 1] & 0xFF).isEqualTo(255);
        // identity warp reproduces the input
        assertThat(Augmenter.warp(cxr, n, false, 0, 1, 0, 0)).isEqualTo(cxr);
    }

    @Test
    void augmentationStrengthScalesTheRangesNotTheProbabilities() {
        Augmenter d = Augmenter.defaults();
        assertThat(d.scaled(1)).isEqualTo(d);
        Augmenter s = d.scaled(1.5);
        assertThat(s.maxRotationDegrees()).isEqualTo(15.0);
        assertThat(s.maxShiftFraction()).isCloseTo(0.09, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(s.maxZoom()).isCloseTo(0.15, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(s.maxGamma()).isCloseTo(0.375, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(s.affineProbability()).isEqualTo(d.affineProbability());
        assertThat(s.flipProbability()).isEqualTo(d.flipProbability());
        assertThat(d.scaled(0).apply(new ModelInput(4, new byte[16], new byte[16]), new SplittableRandom(1)).size())
                .isEqualTo(4);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> d.scaled(-1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
