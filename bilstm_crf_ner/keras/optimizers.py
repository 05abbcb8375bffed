"""Optimizers of a tagger: one for the network and, when fine-tuning a pretrained encoder at
its own learning rate, a second one for the encoder's variables."""

from __future__ import annotations

import keras

from ..core.errors import ConfigError


def make_optimizer(optimizer, learning_rate: float, clipnorm: float | None, default_rate: float):
    """A Keras optimizer from ``optimizer`` (a name, a serialized dict or an instance) at
    ``learning_rate``; an instance is returned as is at ``default_rate``, else copied at the new rate."""
    if isinstance(optimizer, str):
        options = {"learning_rate": learning_rate}
        if clipnorm:
            options["clipnorm"] = clipnorm
        return keras.optimizers.get({"class_name": optimizer, "config": options})
    if isinstance(optimizer, dict):
        return keras.optimizers.deserialize(optimizer)
    if learning_rate != default_rate:  # a second optimizer like the user's, at another rate
        return type(optimizer).from_config(optimizer.get_config() | {"learning_rate": learning_rate})
    return optimizer


def compile_network(network, optimizer, learning_rate: float, clipnorm: float | None, mixed_precision: str | None,
                    encoder_learning_rate: float | None) -> None:
    """Compile ``network`` with its optimizer(s) (call inside the model's distribution scope).

    With ``encoder_learning_rate``, the embedding's ``encoder_variables`` get their own
    optimizer (``network.encoder_optimizer``) and the main one is built on the other variables.
    ``mixed_float16`` wraps the optimizer in loss scaling (float16 gradients underflow without it).
    """
    main = make_optimizer(optimizer, learning_rate, clipnorm, learning_rate)
    if mixed_precision == "mixed_float16":
        if encoder_learning_rate is not None:
            raise ConfigError("mixed_float16 with a separate encoder_learning_rate is not supported; "
                              "use mixed_bfloat16 or one learning rate")
        main = keras.optimizers.LossScaleOptimizer(main)
    network.compile(optimizer=main)
    encoder_variables = getattr(network.embedding, "encoder_variables", [])
    network.encoder_optimizer = None
    if encoder_learning_rate is not None and encoder_variables:
        network.encoder_optimizer = make_optimizer(optimizer, encoder_learning_rate, clipnorm, learning_rate)
        network.encoder_optimizer.build(encoder_variables)
        encoder_paths = {v.path for v in encoder_variables}
        network.optimizer.build([v for v in network.trainable_variables if v.path not in encoder_paths])
