package org.cxrtriage.model;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.ParallelBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A {@link ParallelBlock} that, in inference, closes the branch outputs once {@code join} has combined
 * them (see {@link LeanSequentialBlock}). Same weights format as {@code ParallelBlock}.
 */
final class LeanParallelBlock extends ParallelBlock {
    private final Function<List<NDList>, NDList> join;

    LeanParallelBlock(Function<List<NDList>, NDList> join, List<Block> branches) {
        super(join, branches);
        this.join = join;
    }

    @Override
    protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
            PairList<String, Object> params) {
        if (training) {
            return super.forwardInternal(parameterStore, inputs, training, params);
        }
        List<NDList> outputs = new ArrayList<>(getChildren().size());
        for (Block branch : getChildren().values()) {
            outputs.add(branch.forward(parameterStore, inputs, false, params));
        }
        NDList joined = join.apply(outputs);
        for (NDList output : outputs) {
            LeanSequentialBlock.closeConsumed(output, inputs, joined); // identity branches keep their input
        }
        return joined;
    }
}
