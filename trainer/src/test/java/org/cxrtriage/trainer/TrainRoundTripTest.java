package org.cxrtriage.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.LoadedModel;
import org.cxrtriage.model.ModelDirectory;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.ModelMetadata;
import org.cxrtriage.model.Prediction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train -> save -> load -> predict -> evaluate on a dozen synthetic (generated) chest-like images. */
class TrainRoundTripTest {
    @Test
    void tinyTrainingRunProducesALoadableTrainedModel(@TempDir Path tmp) throws Exception {
        Path manifest = syntheticManifest(tmp);
        Path out = tmp.resolve("model");

        int rc = TrainerCli.run("train", "--manifest", manifest.toString(), "--out", out.toString(),
                "--work-dir", tmp.resolve("work").toString(), "--cache-dir", "none", "--tensor-size", "64",
                "--input-size", "32", "--batch-size", "2", "--epochs", "1", "--max-steps-per-epoch", "2",
                "--val-fraction", "0.34", "--test-fraction", "0.34", "--min-lung-fraction", "0",
                "--threads", "2", "--log-every", "1", "--name", "test-model");
        assertThat(rc).isZero();
        assertThat(out.resolve("split.csv")).isRegularFile();
        assertThat(out.resolve("training.json")).isRegularFile();
        assertThat(out.resolve("model-0000.params")).isRegularFile();
        // A second run into a directory that holds a trained model is refused before it touches anything.
        byte[] splitBefore = Files.readAllBytes(out.resolve("split.csv"));
        assertThat(TrainerCli.run("train", "--manifest", manifest.toString(), "--out", out.toString(),
                "--cache-dir", "none", "--test-fraction", "0.5", "--epochs", "1")).isEqualTo(2);
        assertThat(Files.readAllBytes(out.resolve("split.csv"))).isEqualTo(splitBefore);

        try (LoadedModel model = ModelDirectory.load(out, Device.cpu());
                CxrPredictor predictor = new CxrPredictor(model, 4)) {
            assertThat(model.metadata().trained()).isTrue();
            assertThat(model.metadata().inputSize()).isEqualTo(32);
            assertThat(model.metadata().threshold()).isBetween(0.0, 1.0);
            // model.json records the planes it was trained on, which the inference service then requires.
            assertThat(model.metadata().planes())
                    .startsWith(org.cxrtriage.imaging.PreprocessConfig.ofSize(64).fingerprint() + ";lungs=");
            assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("training.json").toFile())
                    .get("planes").asText()).isEqualTo(model.metadata().planes() + ";minLung=0.0");
            byte[] plane = new byte[64 * 64];
            Prediction p = predictor.predict(new ModelInput(64, plane, plane));
            assertThat(p.probability()).isBetween(0f, 1f);
            assertThat(p.embedding()).hasSize(128);
        }

        Path eval = tmp.resolve("eval");
        rc = TrainerCli.run("evaluate", "--model-dir", out.toString(), "--manifest", manifest.toString(),
                "--out", eval.toString(), "--cache-dir", "none", "--tensor-size", "64", "--min-lung-fraction", "0",
                "--bootstrap", "50", "--threads", "2");
        assertThat(rc).isZero();
        JsonNode metrics = new ObjectMapper().readTree(eval.resolve("metrics.json").toFile());
        assertThat(metrics.get("overall").get("metrics").has("rocAuc")).isTrue();
        assertThat(metrics.has("knn")).isTrue();
        assertThat(metrics.get("perSource").has("ieee8023")).isTrue();
        assertThat(eval.resolve("report.html")).isRegularFile();
        assertThat(eval.resolve("roc.png")).isRegularFile();
        assertThat(eval.resolve("pr.png")).isRegularFile();
        assertThat(eval.resolve("tsne.png")).isRegularFile();
        assertThat(metrics.get("overall").get("metrics").has("sensitivityAtSpecificity90")).isTrue();
        assertThat(metrics.get("knn").has("classifierMinusKnnAccuracy")).isTrue();
        JsonNode ablation = metrics.get("lungAblation");
        assertThat(ablation.get("meanLungRegionFraction").asDouble()).isBetween(0.0, 1.0);
        for (String view : new String[] {"lungsHidden", "lungsOnly"}) {
            assertThat(ablation.get(view).get("overall").get("n").asInt()).as(view)
                    .isEqualTo(metrics.get("overall").get("n").asInt());
            assertThat(ablation.get(view).get("overall").get("metrics").has("rocAuc")).as(view).isTrue();
            assertThat(ablation.get(view).has("within_ieee8023")).as(view).isTrue();
        }
        assertThat(eval.resolve("lung-ablation.png")).isRegularFile();
        JsonNode occlusion = metrics.get("occlusion");
        assertThat(occlusion.get("all").get("images").asInt()).isEqualTo(metrics.get("overall").get("n").asInt());
        assertThat(occlusion.get("all").get("lungArea").get("value").asDouble()).isBetween(0.0, 1.0);
        assertThat(occlusion.get("covid").has("lungShare")).isTrue();
        assertThat(eval.resolve("occlusion.png")).isRegularFile();
        JsonNode calibration = metrics.get("calibration");
        assertThat(calibration.get("n").asInt()).isEqualTo(metrics.get("overall").get("n").asInt());
        assertThat(calibration.get("metrics").get("brier").get("value").asDouble()).isBetween(0.0, 1.0);
        assertThat(calibration.get("bins")).hasSize(Calibration.DEFAULT_BINS);
        assertThat(eval.resolve("calibration.png")).isRegularFile();
        java.util.List<String> occlusionRows = Files.readAllLines(eval.resolve(EvaluateCommand.OCCLUSION_FILE));
        assertThat(occlusionRows.get(0)).startsWith("file,label,lungShare,lungArea,cell0,").endsWith(",cell63");
        assertThat(occlusionRows).hasSize(1 + metrics.get("overall").get("n").asInt());
        java.util.List<String> caseRows = Files.readAllLines(eval.resolve(EvaluateCommand.CASES_FILE));
        assertThat(caseRows.get(0)).isEqualTo("file,source,label,score,call,lungsHidden,lungsOnly");
        assertThat(caseRows).hasSize(1 + metrics.get("overall").get("n").asInt());
        assertThat(caseRows.subList(1, caseRows.size())).allMatch(r -> r.matches("images/synth_\\d+\\.png,\\w+,"
                + "(covid|negative),[01]\\.\\d{6},(covid|negative),[01]\\.\\d{6},[01]\\.\\d{6}"));

        // a two-member ensemble (the same model twice): identical calls and mean probability
        Path ens = tmp.resolve("ensemble");
        rc = TrainerCli.run("evaluate", "--model-dir", out.toString(), "--model-dir", out.toString(),
                "--manifest", manifest.toString(), "--out", ens.toString(), "--cache-dir", "none",
                "--tensor-size", "64", "--min-lung-fraction", "0", "--bootstrap", "20", "--threads", "2",
                "--knn", "0", "--no-report");
        assertThat(rc).isZero();
        JsonNode ensemble = new ObjectMapper().readTree(ens.resolve("metrics.json").toFile());
        assertThat(ensemble.has("ensemble")).isTrue();
        assertThat(ensemble.has("occlusion")).as("one model only").isFalse();
        assertThat(ensemble.get("overall").get("confusion")).isEqualTo(metrics.get("overall").get("confusion"));
        assertThat(ensemble.get("overall").get("metrics").get("rocAuc").get("value").asDouble())
                .isEqualTo(metrics.get("overall").get("metrics").get("rocAuc").get("value").asDouble());
    }

    /** Twelve generated chest-like images and their manifest, half of them "covid". */
    private static Path syntheticManifest(Path tmp) throws java.io.IOException {
        Path data = tmp.resolve("data");
        Files.createDirectories(data.resolve("images"));
        StringBuilder csv = new StringBuilder("file,label,patient_id,view,source,finding,license\n");
        Random random = new Random(5);
        for (int i = 0; i < 12; i++) {
            boolean covid = i % 2 == 0;
            String file = "images/synth_" + i + ".png";
            ImageIO.write(phantom(128, covid, random), "png", data.resolve(file).toFile());
            csv.append(file).append(',').append(covid ? "covid" : "negative").append(",synth:").append(i)
                    .append(",PA,").append(i < 6 ? "ieee8023" : "synth").append(",x,generated\n");
        }
        Path manifest = data.resolve("manifest.csv");
        Files.writeString(manifest, csv);
        return manifest;
    }

    private static String[] trainArgs(Path manifest, Path out, Path work, String epochs, String lr, String... extra) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "--manifest",
                manifest.toString(), "--out", out.toString(), "--work-dir", work.toString(), "--cache-dir", "none",
                "--tensor-size", "64", "--input-size", "32", "--batch-size", "2", "--epochs", epochs,
                "--max-steps-per-epoch", "2", "--val-fraction", "0.34", "--test-fraction", "0.34",
                "--min-lung-fraction", "0", "--threads", "2", "--log-every", "0", "--patience", "9", "--lr", lr,
                "--name", "test-model"));
        args.addAll(java.util.List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void averagedWeightsAreWhatIsValidatedAndSaved(@TempDir Path tmp) throws Exception {
        Path manifest = syntheticManifest(tmp);
        Path work = tmp.resolve("work");
        assertThat(TrainerCli.run(trainArgs(manifest, tmp.resolve("a"), work, "2", "1e-3", "--ema-decay", "0.9",
                "--augment-strength", "1.5"))).isZero();
        JsonNode options = new ObjectMapper().readTree(tmp.resolve("a/training.json").toFile()).get("options");
        assertThat(options.get("emaDecay").asDouble()).isEqualTo(0.9);
        assertThat(options.get("augmentStrength").asDouble()).isEqualTo(1.5);
        // The shipped weights are the average; the resume point keeps the raw weights, so the two differ.
        byte[] saved = Files.readAllBytes(ModelDirectory.weightsFile(tmp.resolve("a")).orElseThrow());
        byte[] raw = Files.readAllBytes(ModelDirectory.weightsFile(work.resolve("last")).orElseThrow());
        assertThat(saved).isNotEqualTo(raw);
        // An average is part of the run's identity: resuming with another decay is refused.
        assertThat(TrainerCli.run(trainArgs(manifest, tmp.resolve("x"), work, "3", "1e-3", "--ema-decay", "0.5",
                "--augment-strength", "1.5", "--resume"))).isNotZero();
    }

    @Test
    void aRefitTrainsOnTrainAndValidationForItsEpochsAndCarriesTheThreshold(@TempDir Path tmp) throws Exception {
        Path manifest = syntheticManifest(tmp);
        assertThat(TrainerCli.run(trainArgs(manifest, tmp.resolve("a"), tmp.resolve("wa"), "2", "1e-3"))).isZero();
        JsonNode selected = new ObjectMapper().readTree(tmp.resolve("a/training.json").toFile()).get("result");
        Path split = tmp.resolve("a").resolve(DataSplit.FILE_NAME);

        // One epoch, then resumed to two: a refit's progress (no validation AUC) survives a restart too.
        assertThat(TrainerCli.run(trainArgs(manifest, tmp.resolve("r"), tmp.resolve("wr"), "1", "1e-3",
                "--split", split.toString(), "--refit-threshold", "0.4321"))).isZero();
        assertThat(TrainerCli.run(trainArgs(manifest, tmp.resolve("r"), tmp.resolve("wr"), "2", "1e-3",
                "--split", split.toString(), "--refit-threshold", "0.4321", "--resume"))).isZero();
        JsonNode refit = new ObjectMapper().readTree(tmp.resolve("r/training.json").toFile()).get("result");
        assertThat(refit.get("trainImages").asInt())
                .isEqualTo(selected.get("trainImages").asInt() + selected.get("valImages").asInt());
        assertThat(refit.get("valImages").asInt()).isZero();
        assertThat(refit.get("bestEpoch").asInt()).isEqualTo(2);
        assertThat(refit.get("history")).hasSize(2);
        assertThat(refit.get("threshold").asDouble()).isEqualTo(0.4321);
        ModelMetadata meta = ModelMetadata.fromJson(Files.readString(tmp.resolve("r/model.json")));
        assertThat(meta.threshold()).isEqualTo(0.4321);
        assertThat(meta.notes()).contains("train + validation");
        // the shipped weights are the last epoch's
        try (LoadedModel lm = ModelDirectory.load(tmp.resolve("r"), ai.djl.Device.cpu())) {
            assertThat(lm.metadata().trained()).isTrue();
        }

        assertThat(TrainerCli.run(trainArgs(manifest, tmp.resolve("x"), tmp.resolve("wx"), "1", "1e-3",
                "--refit-threshold", "1.5"))).isEqualTo(2);
    }

    @Test
    void aHeldOutSourceBecomesTheTestSplit(@TempDir Path tmp) throws Exception {
        Path manifest = syntheticManifest(tmp);
        Path out = tmp.resolve("loso");
        assertThat(TrainerCli.run(trainArgs(manifest, out, tmp.resolve("w"), "1", "1e-3", "--test-source",
                "synth"))).isZero();
        java.util.List<String> rows = Files.readAllLines(out.resolve(DataSplit.FILE_NAME));
        // the synthetic manifest: images 0-5 come from ieee8023, 6-11 from "synth"
        for (String row : rows.subList(1, rows.size())) {
            int image = Integer.parseInt(row.replaceAll(".*synth_(\\d+)\\.png.*", "$1"));
            assertThat(row.endsWith(",test")).as(row).isEqualTo(image >= 6);
        }
        assertThat(new ObjectMapper().readTree(out.resolve("training.json").toFile()).get("testSource").asText())
                .isEqualTo("synth");
        assertThat(TrainerCli.run(trainArgs(manifest, tmp.resolve("x"), tmp.resolve("wx"), "1", "1e-3",
                "--test-source", "elsewhere"))).isEqualTo(2);
    }

    @Test
    void aLungsOnlyModelIgnoresTheXrayOutsideTheLungsWhereverItRuns(@TempDir Path tmp) throws Exception {
        Path manifest = syntheticManifest(tmp);
        Path out = tmp.resolve("lungs-only");
        assertThat(TrainerCli.run(trainArgs(manifest, out, tmp.resolve("w"), "1", "1e-3", "--input-view",
                "LUNGS_ONLY"))).isZero();
        assertThat(ModelMetadata.fromJson(Files.readString(out.resolve("model.json"))).inputView())
                .isEqualTo(org.cxrtriage.model.InputView.LUNGS_ONLY);
        int size = 64;
        byte[] lung = new byte[size * size];
        for (int y = 16; y < 48; y++) {
            for (int x = 12; x < 28; x++) {
                lung[y * size + x] = (byte) 230;
            }
        }
        Random random = new Random(3);
        byte[] cxr = new byte[size * size];
        random.nextBytes(cxr);
        byte[] otherOutside = cxr.clone();
        boolean[] region = org.cxrtriage.model.LungRegion.of(new ModelInput(size, cxr, lung));
        for (int i = 0; i < otherOutside.length; i++) {
            otherOutside[i] = region[i] ? cxr[i] : (byte) random.nextInt(256);
        }
        byte[] otherInside = cxr.clone();
        otherInside[30 * size + 20] ^= (byte) 0x7f;
        otherInside[31 * size + 20] ^= (byte) 0x7f;
        try (LoadedModel model = ModelDirectory.loadForInference(out, Device.cpu());
                CxrPredictor predictor = new CxrPredictor(model, 2)) {
            Prediction p = predictor.predict(new ModelInput(size, cxr, lung));
            Prediction outside = predictor.predict(new ModelInput(size, otherOutside, lung));
            Prediction inside = predictor.predict(new ModelInput(size, otherInside, lung));
            assertThat(outside.probability()).isEqualTo(p.probability());
            assertThat(outside.embedding()).isEqualTo(p.embedding());
            assertThat(inside.embedding()).isNotEqualTo(p.embedding());
        }
    }

    @Test
    void anInterruptedRunResumesAfterItsLastEpoch(@TempDir Path tmp) throws Exception {
        Path manifest = syntheticManifest(tmp);
        Path work = tmp.resolve("work");
        assertThat(TrainerCli.run(trainArgs(manifest, tmp.resolve("a"), work, "1", "1e-3"))).isZero();
        JsonNode first = new ObjectMapper().readTree(tmp.resolve("a/training.json").toFile());
        assertThat(work.resolve(ModelTraining.PROGRESS_FILE)).isRegularFile();

        // Other options than the interrupted run: refused rather than silently mixing two runs.
        assertThat(TrainerCli.run(trainArgs(manifest, tmp.resolve("x"), work, "2", "5e-4", "--resume"))).isNotZero();

        assertThat(TrainerCli.run(trainArgs(manifest, tmp.resolve("b"), work, "2", "1e-3", "--resume"))).isZero();
        JsonNode resumed = new ObjectMapper().readTree(tmp.resolve("b/training.json").toFile());
        JsonNode history = resumed.get("result").get("history");
        assertThat(history).hasSize(2);
        assertThat(history.get(0)).isEqualTo(first.get("result").get("history").get(0));
        assertThat(history.get(1).get("epoch").asInt()).isEqualTo(2);
        // the learning-rate schedule went on where it stood: epoch 2 ends two epochs of decay in
        assertThat(history.get(1).get("learningRate").asDouble())
                .isLessThan(history.get(0).get("learningRate").asDouble());
        try (LoadedModel model = ModelDirectory.load(tmp.resolve("b"), Device.cpu())) {
            assertThat(model.metadata().trained()).isTrue();
        }
    }

    /** A bright body with two darker elliptical lung fields; "covid" adds bright patches inside them. */
    private static BufferedImage phantom(int n, boolean covid, Random random) {
        BufferedImage img = new BufferedImage(n, n, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                double u = (x - n / 2.0) / n;
                double v = (y - n / 2.0) / n;
                double value = 180 + random.nextGaussian() * 8;
                boolean lung = inEllipse(u, v, -0.18, 0, 0.13, 0.3) || inEllipse(u, v, 0.18, 0, 0.13, 0.3);
                if (lung) {
                    value = 70 + random.nextGaussian() * 8;
                    if (covid && Math.sin(x * 0.4) * Math.cos(y * 0.3) > 0.3) {
                        value += 60;
                    }
                }
                int g = (int) Math.max(0, Math.min(255, value));
                img.getRaster().setSample(x, y, 0, g);
            }
        }
        return img;
    }

    private static boolean inEllipse(double u, double v, double cu, double cv, double ru, double rv) {
        double a = (u - cu) / ru;
        double b = (v - cv) / rv;
        return a * a + b * b <= 1;
    }
}
