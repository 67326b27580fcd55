package org.cxrtriage.model;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;

/**
 * Turns a trained classifier into its inference form ({@link CxrNetworkFactory#buildFolded}): each BatchNorm is
 * folded into the convolution before it. In inference a BatchNorm is a fixed per-channel affine map,
 * {@code y = gamma (x - mean) / sqrt(var + eps) + beta}, so convolution-then-BatchNorm is one convolution with
 * weights {@code W * s} and bias {@code beta - mean * s}, where {@code s = gamma / sqrt(var + eps)}. The outputs are
 * the same up to float rounding; the forward pass skips one operation over the activations per convolution.
 */
public final class BatchNormFolding {
    private BatchNormFolding() {}

    /** A new model in the inference form, with its own copy of the weights; {@code trained} stays usable. */
    public static LoadedModel fold(LoadedModel trained) {
        ModelMetadata metadata = trained.metadata();
        Block folded = CxrNetworkFactory.buildFolded(metadata.backbone(), metadata.embeddingSize());
        Model model = Model.newInstance(metadata.name(), trained.device(), TorchRuntime.ENGINE);
        try {
            copyFolded(trained.model().getBlock().getParameters(), folded.getParameters(), model.getNDManager());
            model.setBlock(folded);
            folded.freezeParameters(true);
            return new LoadedModel(model, metadata, trained.directory());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Walks both parameter lists in order (depth-first, as the blocks were added): a convolution weight followed by
     * a BatchNorm's four parameters becomes a weight and a bias; everything else is copied. The two networks come
     * from the same factory, so any other sequence means they do not match, and that is an error.
     */
    static void copyFolded(ParameterList from, ParameterList to, NDManager target) {
        int j = 0;
        int i = 0;
        try (NDManager scratch = target.newSubManager()) {
            while (i < from.size()) {
                Parameter p = from.valueAt(i);
                if (isConvThenNorm(from, i)) {
                    NDArray weight = copy(p, scratch);
                    NDArray gamma = copy(from.valueAt(i + 1), scratch);
                    NDArray beta = copy(from.valueAt(i + 2), scratch);
                    NDArray mean = copy(from.valueAt(i + 3), scratch);
                    NDArray variance = copy(from.valueAt(i + 4), scratch);
                    NDArray scale = gamma.div(variance.add(CxrNetworkFactory.BATCH_NORM_EPSILON).sqrt());
                    expect(to, j, Parameter.Type.WEIGHT, p);
                    expect(to, j + 1, Parameter.Type.BIAS, p);
                    to.valueAt(j).setArray(keep(weight.mul(scale.reshape(-1, 1, 1, 1)), target));
                    to.valueAt(j + 1).setArray(keep(beta.sub(mean.mul(scale)), target));
                    i += 5;
                    j += 2;
                } else {
                    expect(to, j, p.getType(), p);
                    to.valueAt(j).setArray(keep(copy(p, scratch), target));
                    i++;
                    j++;
                }
            }
        }
        if (j != to.size()) {
            throw new IllegalStateException("folded network has " + to.size() + " parameters, filled " + j);
        }
    }

    private static boolean isConvThenNorm(ParameterList list, int i) {
        return list.valueAt(i).getType() == Parameter.Type.WEIGHT
                && list.valueAt(i).getArray().getShape().dimension() == 4
                && i + 4 < list.size()
                && list.valueAt(i + 1).getType() == Parameter.Type.GAMMA
                && list.valueAt(i + 2).getType() == Parameter.Type.BETA
                && list.valueAt(i + 3).getType() == Parameter.Type.RUNNING_MEAN
                && list.valueAt(i + 4).getType() == Parameter.Type.RUNNING_VAR;
    }

    private static void expect(ParameterList to, int j, Parameter.Type type, Parameter source) {
        if (j >= to.size() || to.valueAt(j).getType() != type) {
            throw new IllegalStateException("folded network does not match the trained one at " + source.getName()
                    + ": expected a " + type + " parameter at position " + j);
        }
    }

    private static NDArray copy(Parameter p, NDManager scratch) {
        NDArray copy = p.getArray().duplicate();
        copy.attach(scratch);
        return copy;
    }

    /** Moves a result out of the scratch manager (closed when folding ends) into the model's. */
    private static NDArray keep(NDArray array, NDManager target) {
        array.attach(target);
        return array;
    }
}
