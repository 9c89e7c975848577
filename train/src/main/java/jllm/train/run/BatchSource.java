package jllm.train.run;

import java.util.List;
import jllm.train.TrainStep;

/**
 * Training units (packed rows of examples, or chunks of a text) in a seeded order per epoch, turned
 * into micro-batches; and the validation set. The order of epoch e is a pure function of the seed and
 * e, so a run's data position is just (epoch, index in that order): what a checkpoint records.
 */
public interface BatchSource {
    /** Units per epoch. */
    int size();

    /** One micro-batch of units {@code order(epoch)[from, to)}. */
    TrainStep.Batch batch(int epoch, int from, int to);

    /** The validation set in micro-batches of at most {@code unitsPerBatch} units (empty: none). */
    List<TrainStep.Batch> validation(int unitsPerBatch);

    /** Characters of the validation text (for loss per character), or 0 when not meaningful. */
    default long validationChars() { return 0; }
}
