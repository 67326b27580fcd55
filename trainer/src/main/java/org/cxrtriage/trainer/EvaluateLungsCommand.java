package org.cxrtriage.trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.cxrtriage.imaging.LungSegmenter;
import org.cxrtriage.model.LungChannel;
import org.cxrtriage.model.TorchRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "evaluate-lungs", mixinStandardHelpOptions = true,
        description = "Dice of a lung segmenter against the aligned hand-drawn masks of one split part, at the plane "
                + "resolution, through the stream's own classes; or (--lung-fractions) the lung-area fraction of every "
                + "image and of synthetic non-chest images, to choose the NO_LUNGS threshold.")
final class EvaluateLungsCommand implements Callable<Integer> {
    @Option(names = "--model-dir", defaultValue = LungChannel.DEFAULT_MODEL_DIR, description = "lung U-Net directory (default: ${DEFAULT-VALUE})") String modelDir;
    @Option(names = "--segmenter", defaultValue = LungChannel.DEFAULT_KIND, description = "unet | heuristic") String segmenter;
    @Option(names = "--manifest", description = "default: $CXR_MANIFEST or ../shared/data/cxr/manifest.csv") Path manifest;
    @Option(names = "--masks", description = "default: masks_manifest.csv beside the image manifest") Path masks;
    @Option(names = "--split", description = "default: <model-dir>/lung-split.csv") Path splitFile;
    @Option(names = "--part", defaultValue = "test", description = "train | val | test | all") String part;
    @Option(names = "--tensor-size", defaultValue = "256") int tensorSize;
    @Option(names = "--threads", defaultValue = "1", description = "PyTorch intra-op threads") int threads;
    @Option(names = "--lung-fractions", description = "instead: the lung-area fraction of every image of the manifest "
            + "and of synthetic non-chest images (noise, gradients), to choose the NO_LUNGS threshold") boolean fractions;

    @Override
    public Integer call() throws Exception {
        TorchRuntime.configureThreads(threads, 1);
        Path manifestPath = TrainerCli.manifestPath(manifest);
        Manifest m = Manifest.read(manifestPath);
        LungSegmenter lungs = LungChannel.open(segmenter, modelDir);
        try {
            if (fractions) {
                LungFractions.report(m, lungs, tensorSize, System.out);
                return 0;
            }
            Path masksCsv = masks != null ? masks : LungMasks.defaultMasksCsv(manifestPath);
            List<LungMasks.Sample> all = LungMasks.load(m, masksCsv, tensorSize, 2, System.out);
            List<LungMasks.Sample> selected = new ArrayList<>();
            DataSplit split = "all".equals(part) ? null : DataSplit.read(splitFile != null ? splitFile
                    : LungChannel.resolve(modelDir).resolve(TrainLungsCommand.SPLIT_FILE));
            for (LungMasks.Sample s : all) {
                if (s.handDrawn() && (split == null || (split.contains(s.entry())
                        && split.partOf(s.entry()) == DataSplit.Part.of(part)))) {
                    selected.add(s);
                }
            }
            System.out.println(lungs.version() + " on " + part + " hand-drawn masks at " + tensorSize + " px: "
                    + LungEvaluation.evaluate(selected, lungs).line());
            return 0;
        } finally {
            if (lungs instanceof AutoCloseable c) {
                c.close();
            }
        }
    }
}
