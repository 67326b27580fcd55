package org.cxrtriage.preprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.cxrtriage.common.Settings;
import org.cxrtriage.imaging.TensorPlanes;
import org.cxrtriage.model.LungChannel;
import org.cxrtriage.model.LungModelDirectory;
import org.cxrtriage.schemas.ImageReceived;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The service's default lung channel (the committed U-Net in {@code models/lung-unet}) with its NO_LUNGS rule:
 * images that are not chest X-rays are rejected, real X-rays are not.
 */
class LungRejectionTest {
    private static TensorFactory factory;

    @BeforeAll
    static void load() {
        assumeTrue(Files.isRegularFile(LungChannel.resolve(LungChannel.DEFAULT_MODEL_DIR)
                .resolve(LungModelDirectory.METADATA_FILE)), "no lung U-Net in " + LungChannel.DEFAULT_MODEL_DIR);
        factory = PreprocessService.tensorFactory(Settings.of(Map.of(PreprocessService.TENSOR_SIZE, "256")));
    }

    private static ImageReceived image(String id, byte[] bytes) {
        return ImageReceived.newBuilder().setImageId(id).setStudyId("study").setPatientRef("p-1").setSiteId("site")
                .setViewPosition("PA").setReceivedAt(Instant.ofEpochMilli(1000)).setContentType("image/png")
                .setSha256("x").setWidth(1).setHeight(1).setImageBytes(ByteBuffer.wrap(bytes)).build();
    }

    private static byte[] png(int width, int height, java.util.function.IntBinaryOperator pixel) throws IOException {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                img.getRaster().setSample(x, y, 0, pixel.applyAsInt(x, y));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    @Test
    void noiseAndGradientsAreRejectedAsNoLungs() throws IOException {
        Random random = new Random(1);
        Map<String, byte[]> nonChest = Map.of(
                "noise", png(400, 360, (x, y) -> random.nextInt(256)),
                "gradient", png(400, 360, (x, y) -> x * 255 / 399));
        for (Map.Entry<String, byte[]> e : nonChest.entrySet()) {
            PreprocessOutcome out = factory.process(e.getKey(), image(e.getKey(), e.getValue()));
            assertThat(out.ok()).as(e.getKey()).isFalse();
            assertThat(out.rejected().getReasonCode()).as(e.getKey()).isEqualTo("NO_LUNGS");
            assertThat(out.rejected().getMessage()).contains("no lungs found");
        }
    }

    @Test
    void realChestXraysPassWithTheUnetLungPlane() throws IOException {
        String env = System.getenv("CXR_DATA_DIR");
        Path images = Path.of(env != null ? env : "../../shared/data/cxr").resolve("images");
        assumeTrue(Files.isDirectory(images), "no CXR data at " + images);
        List<Path> sample;
        try (Stream<Path> files = Files.list(images)) {
            List<Path> all = files.filter(p -> p.toString().endsWith(".png")).sorted().toList();
            sample = java.util.stream.IntStream.range(0, 12).mapToObj(i -> all.get(i * all.size() / 12)).toList();
        }
        for (Path p : sample) {
            PreprocessOutcome out = factory.process(p.getFileName().toString(), image("x", Files.readAllBytes(p)));
            assertThat(out.ok()).as(p.getFileName() + " " + out.rejected()).isTrue();
            assertThat(out.tensor().getLungModel()).startsWith("unet-lungs:");
            assertThat(out.tensor().getLungAreaFraction()).isGreaterThan((float) TensorPlanes.DEFAULT_MIN_LUNG_FRACTION);
        }
    }
}
