package org.cxrtriage.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareCommandTest {
    private static final String[] FILES = {"a.png", "b.png", "c.png", "d.png", "e.png", "f.png"};
    private static final String[] SOURCES = {"ieee8023", "ieee8023", "ieee8023", "ieee8023", "nih", "nih"};
    private static final boolean[] COVID = {true, true, false, false, false, false};

    private static Path evaluation(Path dir, String extraColumn, double... scores) throws Exception {
        Files.createDirectories(dir);
        StringBuilder csv = new StringBuilder("file,source,label,score,call" + extraColumn + "\n");
        for (int i = 0; i < FILES.length; i++) {
            String label = COVID[i] ? "covid" : "negative";
            csv.append(FILES[i]).append(',').append(SOURCES[i]).append(',').append(label).append(',')
                    .append(scores[i]).append(",negative").append(extraColumn.isEmpty() ? "" : ",0.5").append('\n');
        }
        Files.writeString(dir.resolve(EvaluateCommand.CASES_FILE), csv);
        return dir;
    }

    private static Path manifest(Path dir) throws Exception {
        StringBuilder csv = new StringBuilder("file,label,patient_id,view,source\n");
        for (int i = 0; i < FILES.length; i++) {
            csv.append(FILES[i]).append(',').append(COVID[i] ? "covid" : "negative").append(",p").append(i)
                    .append(",PA,").append(SOURCES[i]).append('\n');
        }
        Path file = dir.resolve("manifest.csv");
        Files.writeString(file, csv);
        return file;
    }

    @Test
    void comparesTheRocAucOfTwoEvaluationsPairedByImage(@TempDir Path tmp) throws Exception {
        Path a = evaluation(tmp.resolve("a"), ",lungsHidden", 0.6, 0.4, 0.5, 0.3, 0.7, 0.2);
        Path b = evaluation(tmp.resolve("b"), "", 0.9, 0.8, 0.1, 0.2, 0.3, 0.4);
        Path out = tmp.resolve("compare.json");
        assertThat(TrainerCli.run("compare", "--baseline", a.toString(), "--candidate", b.toString(), "--manifest",
                manifest(tmp).toString(), "--bootstrap", "200", "--out", out.toString())).isZero();
        JsonNode report = new ObjectMapper().readTree(out.toFile());
        // hand-computed: baseline 5 of 8 positive-negative pairs in order overall, 3 of 4 within ieee8023
        JsonNode all = report.get("score").get("all");
        assertThat(all.get("n").asInt()).isEqualTo(6);
        assertThat(all.get("baselineRocAuc").get("value").asDouble()).isCloseTo(0.625, within(1e-12));
        assertThat(all.get("candidateRocAuc").get("value").asDouble()).isCloseTo(1.0, within(1e-12));
        assertThat(all.get("difference").get("value").asDouble()).isCloseTo(0.375, within(1e-12));
        double lower = all.get("difference").get("ci95").get(0).asDouble();
        double upper = all.get("difference").get("ci95").get(1).asDouble();
        assertThat(lower).isLessThanOrEqualTo(0.375).isGreaterThanOrEqualTo(-1);
        assertThat(upper).isGreaterThanOrEqualTo(0.375).isLessThanOrEqualTo(1);
        JsonNode ieee = report.get("score").get("within_ieee8023");
        assertThat(ieee.get("n").asInt()).isEqualTo(4);
        assertThat(ieee.get("difference").get("value").asDouble()).isCloseTo(0.25, within(1e-12));
        assertThat(report.has("lungsHidden")).as("a column only one evaluation has").isFalse();
    }

    @Test
    void evaluationsOfDifferentImagesAreRefused(@TempDir Path tmp) throws Exception {
        Path a = evaluation(tmp.resolve("a"), "", 0.6, 0.4, 0.5, 0.3, 0.7, 0.2);
        Path b = evaluation(tmp.resolve("b"), "", 0.9, 0.8, 0.1, 0.2, 0.3, 0.4);
        Path cases = b.resolve(EvaluateCommand.CASES_FILE);
        Files.writeString(cases, Files.readString(cases).replace("f.png", "g.png"));
        assertThat(TrainerCli.run("compare", "--baseline", a.toString(), "--candidate", b.toString(), "--manifest",
                manifest(tmp).toString())).isEqualTo(2);
    }
}
