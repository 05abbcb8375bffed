"""Keras callbacks that need the whole tagger, not just the network."""

from __future__ import annotations

import logging
import time

import keras

logger = logging.getLogger(__name__)


class EntityF1Callback(keras.callbacks.Callback):
    """Adds ``val_f1``, ``val_precision`` and ``val_recall`` (entity level) to the epoch logs.

    ``BLSTMCRFModel.fit`` puts it first in the callback list when validation data is given,
    so ``EarlyStopping(monitor="val_f1", mode="max")`` and ``ModelCheckpoint`` can use it.
    """

    def __init__(self, tagger, x, y, batch_size=256):
        super().__init__()
        self.tagger, self.x, self.y, self.batch_size = tagger, x, y, batch_size

    def on_epoch_end(self, epoch, logs=None):
        report = self.tagger.evaluate(self.x, self.y, batch_size=self.batch_size)
        if logs is not None:
            logs.update(val_f1=report.f1, val_precision=report.precision, val_recall=report.recall)
        logger.info("epoch %d: val_f1=%.4f val_precision=%.4f val_recall=%.4f", epoch + 1, report.f1, report.precision, report.recall)


class TrainingTimeBudget(keras.callbacks.Callback):
    """Stops training before an epoch would end past ``seconds`` of training time.

    The next epoch is predicted to last as long as the longest one so far.
    """

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = float(seconds)
        self.elapsed = 0.0
        self._longest = 0.0
        self._epoch_start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        duration = time.perf_counter() - self._epoch_start
        self.elapsed += duration
        self._longest = max(self._longest, duration)
        if self.elapsed + self._longest > self.seconds:
            logger.info("time budget: stopping after epoch %d (%.0f s of %.0f s used)", epoch + 1, self.elapsed, self.seconds)
            self.model.stop_training = True
