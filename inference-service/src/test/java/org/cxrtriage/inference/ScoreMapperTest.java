package org.cxrtriage.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Instant;
import org.cxrtriage.model.Backbone;
import org.cxrtriage.model.InputView;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.ModelMetadata;
import org.cxrtriage.model.Prediction;
import org.cxrtriage.schemas.CropBox;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.CxrScore;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.Stage;
import org.junit.jupiter.api.Test;

class ScoreMapperTest {

    private static final ModelMetadata ANY_PLANES = new ModelMetadata("m", "1", Backbone.RESNET18, 64, 2, 0.7, 1L,
            true, Instant.EPOCH, "", InputView.FULL);
    private static final ModelMetadata TRAINED_ON_V_M = new ModelMetadata("cxr", "2.0", Backbone.RESNET18, 64, 2, 0.7,
            1L, true, Instant.EPOCH, "", InputView.FULL, "v;lungs=m");

    private static ImageTensor tensor(int size, int cxrBytes) {
        return ImageTensor.newBuilder().setImageId("i").setStudyId("s").setPatientRef("p-1").setSiteId("site")
                .setTensorSize(size).setCxrPlane(ByteBuffer.wrap(new byte[cxrBytes]))
                .setLungPlane(ByteBuffer.wrap(new byte[size * size])).setLungAreaFraction(0.3f)
                .setCropBox(new CropBox(0, 0, 1, 1)).setOriginalWidth(1).setOriginalHeight(1)
                .setPreprocessingVersion("v").setLungModel("m").setReceivedAt(Instant.EPOCH)
                .setPreprocessedAt(Instant.EPOCH).setDecodeMs(0f).setNormaliseMs(0f).setLungMs(0f).build();
    }

    @Test
    void planesOfTheDeclaredSizeBecomeAModelInput() {
        assertThat(ScoreMapper.refusal(tensor(4, 16), ANY_PLANES, Instant.EPOCH)).isNull();
        ModelInput input = ScoreMapper.toInput(tensor(4, 16));
        assertThat(input.size()).isEqualTo(4);
        assertThat(input.cxr()).hasSize(16);
    }

    @Test
    void planesThatDoNotMatchTheDeclaredSizeAreRefused() {
        CxrRejected refusal = ScoreMapper.refusal(tensor(4, 15), ANY_PLANES, Instant.ofEpochMilli(5));
        assertThat(refusal.getReasonCode()).isEqualTo(ScoreMapper.BAD_TENSOR);
        assertThat(refusal.getStage()).isEqualTo(Stage.INFERENCE);
        assertThat(refusal.getImageId()).isEqualTo("i");
        assertThat(refusal.getRejectedAt()).isEqualTo(Instant.ofEpochMilli(5));
        assertThat(ScoreMapper.refusal(tensor(0, 0), ANY_PLANES, Instant.EPOCH).getReasonCode())
                .isEqualTo(ScoreMapper.BAD_TENSOR);
        // 65536² overflows int to 0: empty planes must not pass for a 65536-px tensor.
        assertThat(ScoreMapper.refusal(tensor(65536, 0), ANY_PLANES, Instant.EPOCH).getReasonCode())
                .isEqualTo(ScoreMapper.BAD_TENSOR);
    }

    @Test
    void aModelThatRecordsItsPlanesScoresOnlyThose() {
        // The tensor's planes: preprocessing "v", lung model "m".
        assertThat(ScoreMapper.planesOf(tensor(4, 16))).isEqualTo("v;lungs=m");
        assertThat(ScoreMapper.refusal(tensor(4, 16), TRAINED_ON_V_M, Instant.EPOCH)).isNull();

        ImageTensor otherLungs = ImageTensor.newBuilder(tensor(4, 16)).setLungModel("heuristic-lungs:1").build();
        CxrRejected refusal = ScoreMapper.refusal(otherLungs, TRAINED_ON_V_M, Instant.EPOCH);
        assertThat(refusal.getReasonCode()).isEqualTo(ScoreMapper.PLANES_MISMATCH);
        assertThat(refusal.getStage()).isEqualTo(Stage.INFERENCE);
        assertThat(refusal.getMessage()).contains("cxr 2.0", "v;lungs=m", "v;lungs=heuristic-lungs:1", "MODEL_DIR")
                .doesNotContain("p-1");

        ImageTensor otherPreprocessing = ImageTensor.newBuilder(tensor(4, 16)).setPreprocessingVersion("w").build();
        assertThat(ScoreMapper.refusal(otherPreprocessing, TRAINED_ON_V_M, Instant.EPOCH).getReasonCode())
                .isEqualTo(ScoreMapper.PLANES_MISMATCH);
        // A model without a record of its planes takes any.
        assertThat(ScoreMapper.refusal(otherLungs, ANY_PLANES, Instant.EPOCH)).isNull();
        // Size is checked first: a broken tensor is BAD_TENSOR whatever its planes.
        assertThat(ScoreMapper.refusal(ImageTensor.newBuilder(otherLungs).setTensorSize(5).build(), TRAINED_ON_V_M,
                Instant.EPOCH).getReasonCode()).isEqualTo(ScoreMapper.BAD_TENSOR);
    }

    @Test
    void theCallFollowsTheModelsThreshold() {
        ModelMetadata model = ANY_PLANES;
        CxrScore below = ScoreMapper.toScore(tensor(4, 16), new Prediction(0.69f, new float[] {1f, 2f},
                new float[] {0f, 0f}), model, Instant.EPOCH, 5f, 2);
        CxrScore at = ScoreMapper.toScore(tensor(4, 16), new Prediction(0.7f, new float[] {1f, 2f},
                new float[] {0f, 0f}), model, Instant.EPOCH, 5f, 2);

        assertThat(below.getPositive()).isFalse();
        assertThat(at.getPositive()).isTrue();
        assertThat(at.getThreshold()).isEqualTo(0.7f);
        assertThat(at.getEmbedding()).containsExactly(1f, 2f);
        assertThat(at.getModelName()).isEqualTo("m");
    }
}
