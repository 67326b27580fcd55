package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ModelBenchCommandTest {

    @Test
    void timesEachBatchSizeAndTheLungUnet(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("bench-model.md");
        int exit = new CommandLine(new ModelBenchCommand()).execute("--seeded", "--model-dir", "../models/default",
                "--lung-model-dir", "../models/lung-unet", "--batch-sizes", "1,2", "--seconds", "0.2",
                "--cpu-threads", "1", "--out", out.toString());

        assertThat(exit).isZero();
        String table = Files.readString(out);
        assertThat(table).contains("seeded (untrained) classifier weights");
        for (String network : new String[] {"classifier \\| cpu\\(\\) \\| 1", "classifier \\| cpu\\(\\) \\| 2",
                "lung U-Net 128² \\| cpu\\(\\) \\| 1"}) {
            Matcher row = Pattern.compile("\\| " + network + " \\| ([0-9,]+) \\| ([0-9.]+) / ([0-9.]+) \\| (\\d+) \\|")
                    .matcher(table);
            assertThat(row.find()).as(network + " in%n%s", table).isTrue();
            assertThat(Double.parseDouble(row.group(1).replace(",", ""))).as("images/s").isPositive();
            assertThat(Double.parseDouble(row.group(3))).as("p99 ≥ p50").isGreaterThanOrEqualTo(
                    Double.parseDouble(row.group(2)));
            assertThat(Integer.parseInt(row.group(4))).as("calls").isGreaterThanOrEqualTo(3);
        }
    }

    @Test
    void refusesBatchSizesBelowOne(@TempDir Path tmp) {
        int exit = new CommandLine(new ModelBenchCommand()).execute("--seeded", "--model-dir", "../models/default",
                "--batch-sizes", "0", "--out", tmp.resolve("x.md").toString());

        assertThat(exit).isNotZero();
        assertThat(tmp.resolve("x.md")).doesNotExist();
    }
}
