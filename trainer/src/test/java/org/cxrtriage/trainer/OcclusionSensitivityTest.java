package org.cxrtriage.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.cxrtriage.model.Backbone;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.LoadedModel;
import org.cxrtriage.model.ModelDirectory;
import org.cxrtriage.model.ModelInput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OcclusionSensitivityTest {

    @Test
    void coversExactlyOneCellWithThePlanesMeanGray() {
        int n = 8;
        byte[] cxr = new byte[n * n];
        for (int i = 0; i < cxr.length; i++) {
            cxr[i] = (byte) (i < 32 ? 0 : 200); // mean 100
        }
        byte[] lung = new byte[n * n];
        ModelInput covered = OcclusionSensitivity.cover(new ModelInput(n, cxr, lung), 4, 5); // row 1, column 1
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                int expected = y >= 2 && y < 4 && x >= 2 && x < 4 ? 100 : cxr[y * n + x] & 0xFF;
                assertThat(covered.cxr()[y * n + x] & 0xFF).as("(%d,%d)", x, y).isEqualTo(expected);
            }
        }
        assertThat(covered.lung()).isSameAs(lung);
        assertThat(cxr[2 * n + 2]).as("the input is not changed").isEqualTo((byte) 0);
    }

    @Test
    void cellsTileTheImageWhenTheGridDoesNotDivideIt() {
        // 10 px in 3 cells: [0,3) [3,6) [6,10)
        assertThat(new int[] {OcclusionSensitivity.edge(0, 3, 10), OcclusionSensitivity.edge(1, 3, 10),
                OcclusionSensitivity.edge(2, 3, 10), OcclusionSensitivity.edge(3, 3, 10)})
                .containsExactly(0, 3, 6, 10);
    }

    @Test
    void lungOverlapIsTheFractionOfEachCellInTheRegion() {
        int n = 4;
        boolean[] region = new boolean[n * n];
        // top-left cell (2x2) full, top-right cell one pixel, bottom cells none
        region[0] = region[1] = region[4] = region[5] = true;
        region[3] = true;
        assertThat(OcclusionSensitivity.lungOverlap(region, n, 2)).containsExactly(1.0, 0.25, 0.0, 0.0);
    }

    @Test
    void lungShareIsTheAbsoluteChangeInsideTheRegionOverAllChange() {
        OcclusionSensitivity.ImageMap map = new OcclusionSensitivity.ImageMap(2, new double[] {0.2, -0.1, 0, 0.1},
                new double[] {1, 0.5, 0, 0});
        // inside: 0.2 * 1 + 0.1 * 0.5 = 0.25 of 0.4
        assertThat(map.lungShare()).isCloseTo(0.625, within(1e-12));
        assertThat(map.lungArea()).isCloseTo(0.375, within(1e-12));
        assertThat(new OcclusionSensitivity.ImageMap(2, new double[4], new double[] {1, 0, 0, 0}).lungShare())
                .as("no change anywhere").isNaN();
    }

    @Test
    void reportAveragesPerLabelWithPatientCis() throws Exception {
        List<Evaluation.Case> cases = List.of(
                new Evaluation.Case("a", "p1", "s", true, 0.9, new float[0]),
                new Evaluation.Case("b", "p1", "s", true, 0.8, new float[0]),
                new Evaluation.Case("c", "p2", "s", false, 0.1, new float[0]));
        double[] inside = {1, 0, 0, 0};
        List<OcclusionSensitivity.ImageMap> maps = List.of(
                new OcclusionSensitivity.ImageMap(2, new double[] {0.4, 0, 0, 0}, inside), // share 1
                new OcclusionSensitivity.ImageMap(2, new double[] {0.1, 0.1, 0.1, 0.1}, inside), // share 0.25
                new OcclusionSensitivity.ImageMap(2, new double[] {0, 0.2, 0, 0}, inside)); // share 0
        Map<String, Object> report = OcclusionSensitivity.report(cases, maps, 50, 1);
        var json = new ObjectMapper().valueToTree(report);
        assertThat(json.get("all").get("images").asInt()).isEqualTo(3);
        assertThat(json.get("covid").get("lungShare").get("value").asDouble()).isCloseTo(0.625, within(1e-12));
        assertThat(json.get("negative").get("lungShare").get("value").asDouble()).isZero();
        assertThat(json.get("all").get("lungArea").get("value").asDouble()).isCloseTo(0.25, within(1e-12));
        // image a: share 1 > area 0.25; image b: share 0.25, not above its area
        assertThat(json.get("covid").get("imagesLookingMoreInsideLungs").get("value").asDouble()).isEqualTo(0.5);
        assertThat(json.get("covid").get("meanAbsSensitivity").get("value").asDouble())
                .isCloseTo((0.1 + 0.1) / 2, within(1e-12));
        assertThat(OcclusionSensitivity.meanAbsMap(cases, maps, Evaluation.Case::positive))
                .containsExactly(0.25, 0.05, 0.05, 0.05);
    }

    @Test
    void aModelScoresEachCoveredCellAgainstTheImagesOwnScore(@TempDir Path dir) throws Exception {
        ModelDirectory.createSeeded(dir, Backbone.RESNET18, 32, 128, 3L, "test", "1");
        int n = 32;
        byte[] flat = new byte[n * n];
        Arrays.fill(flat, (byte) 90);
        byte[] textured = new byte[n * n];
        new Random(2).nextBytes(textured);
        byte[] lung = new byte[n * n];
        for (int y = 8; y < 24; y++) {
            Arrays.fill(lung, y * n + 4, y * n + 28, (byte) 255);
        }
        List<ModelInput> inputs = List.of(new ModelInput(n, flat, lung), new ModelInput(n, textured, lung));
        try (LoadedModel model = ModelDirectory.load(dir, Device.cpu());
                CxrPredictor predictor = new CxrPredictor(model, 4)) {
            double[] baseline = predictor.predict(inputs).stream().mapToDouble(p -> p.probability()).toArray();
            List<OcclusionSensitivity.ImageMap> maps = OcclusionSensitivity.maps(predictor, inputs, baseline, 4, null);
            assertThat(maps).hasSize(2);
            // A flat plane is its own mean: covering any cell changes nothing.
            assertThat(maps.get(0).sensitivity()).hasSize(16).containsOnly(0.0);
            assertThat(Arrays.stream(maps.get(1).sensitivity()).anyMatch(s -> s != 0)).isTrue();
            // Lung rows 8..23 (grown by 1 px), columns 4..27 (grown): cells of rows 1-2 fully inside.
            assertThat(maps.get(1).lungOverlap()[5]).isEqualTo(1.0);
            assertThat(maps.get(1).lungArea()).isBetween(0.3, 0.7);
        }
    }
}
