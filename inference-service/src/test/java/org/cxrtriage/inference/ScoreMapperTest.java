package org.cxrtriage.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Instant;
import org.cxrtriage.model.Backbone;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.ModelMetadata;
import org.cxrtriage.model.Prediction;
import org.cxrtriage.schemas.CropBox;
import org.cxrtriage.schemas.CxrScore;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.Stage;
import org.junit.jupiter.api.Test;

class ScoreMapperTest {

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
        ModelInput input = ScoreMapper.toInput(tensor(4, 16));
        assertThat(input.size()).isEqualTo(4);
        assertThat(input.cxr()).hasSize(16);
    }

    @Test
    void planesThatDoNotMatchTheDeclaredSizeAreRefused() {
        assertThat(ScoreMapper.toInput(tensor(4, 15))).isNull();
        assertThat(ScoreMapper.badTensor(tensor(4, 15), Instant.EPOCH).getStage()).isEqualTo(Stage.INFERENCE);
    }

    @Test
    void theCallFollowsTheModelsThreshold() {
        ModelMetadata model = new ModelMetadata("m", "1", Backbone.RESNET18, 64, 2, 0.7, 1L, true, Instant.EPOCH, "",
                org.cxrtriage.model.InputView.FULL);
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
