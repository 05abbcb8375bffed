"""Every use of a private (underscore or ``.src.``) API of Keras / keras-hub, in one place.

The rest of the library calls these functions and mixins instead of touching private names,
so a Keras or keras-hub upgrade that moves one of them breaks here, and
``tests/test_compat.py`` (one test per touch point) says which one. Each entry names what it
touches, why no public API does the job, and the versions it was checked on.

Checked on: Keras 3.15.1 (TensorFlow 2.21.0 backend), keras-hub 0.32.0.
"""

from __future__ import annotations

import tensorflow as tf


# --------------------------------------------------------------------- keras-hub: BERT weights
def convert_bert_weights(backbone, loader) -> None:
    """Port Hugging Face BERT parameters from ``loader`` into a keras-hub ``BertBackbone``.

    Touches ``keras_hub.src.utils.transformers.convert_bert.convert_weights(backbone, loader,
    transformers_config)``: keras-hub's mapping of HF parameter names to its BERT variables
    (transposes, attention-head reshapes, both LayerNorm namings). The public route,
    ``BertBackbone.from_preset(folder)``, only reads ``model.safetensors`` from disk, while we
    also read Google TF checkpoints and want shape errors of our own, so we call the converter
    with a loader over an in-memory dict. It calls only ``loader.get_tensor(key)`` and
    ``loader.port_weight(keras_variable, hf_weight_key, hook_fn=None)`` and ignores its third
    argument for BERT. Checked on keras-hub 0.32.0.
    """
    from keras_hub.src.utils.transformers.convert_bert import convert_weights

    convert_weights(backbone, loader, {})


# ------------------------------------------------------- keras-hub: other encoder families
#: keras-hub's own Hugging Face converter module for a family, where it has one.
_KERAS_HUB_CONVERTERS = {"bert": "convert_bert", "roberta": "convert_roberta", "xlm-roberta": "convert_xlm_roberta",
                         "albert": "convert_albert", "distilbert": "convert_distilbert"}


def convert_transformer_weights(model_type: str, backbone, loader) -> None:
    """Port Hugging Face parameters of a ``model_type`` checkpoint into its keras-hub backbone.

    For BERT, RoBERTa, XLM-RoBERTa, ALBERT and DistilBERT this calls keras-hub's converter
    ``keras_hub.src.utils.transformers.convert_<family>.convert_weights(backbone, loader,
    transformers_config)`` (the public ``from_preset`` reads only a folder, not our in-memory
    loader; the converters ignore the config argument for these families). keras-hub's RoBERTa
    converter drops ``token_type_embeddings``, which Hugging Face's RoBERTa adds (row 0) to every
    position, so it is folded into the position table here, as keras-hub's XLM-RoBERTa converter
    does. keras-hub has no Hugging Face converter for ELECTRA and DeBERTa-v3: ours below port
    into the private sublayers of their blocks. Checked on keras-hub 0.32.0.
    """
    import importlib

    if model_type in _KERAS_HUB_CONVERTERS:
        module = importlib.import_module(f"keras_hub.src.utils.transformers.{_KERAS_HUB_CONVERTERS[model_type]}")
        module.convert_weights(backbone, loader, {})
        if model_type == "roberta":
            positions = backbone.embeddings.position_embedding.position_embeddings
            positions.assign(positions + loader.get_tensor("embeddings.token_type_embeddings.weight")[0])
    elif model_type == "electra":
        _convert_electra(backbone, loader)
    elif model_type == "deberta-v2":
        _convert_deberta_v3(backbone, loader)
    else:
        raise ValueError(f"no weight converter for {model_type!r}")


def _dense(loader, dense, name):
    """``dense.kernel`` / ``.bias`` from Hugging Face ``name.weight`` ([out, in]) / ``name.bias``."""
    loader.port_weight(dense.kernel, f"{name}.weight", hook_fn=lambda w, s: w.T.reshape(s))
    loader.port_weight(dense.bias, f"{name}.bias", hook_fn=lambda b, s: b.reshape(s))


def _layer_norm(loader, norm, name):
    loader.port_weight(norm.gamma, f"{name}.weight")
    loader.port_weight(norm.beta, f"{name}.bias")


def _port_post_norm_block(loader, block, attention, prefix, query="query", key="key", value="value"):
    """One post-LayerNorm encoder block in Hugging Face BERT naming (``{prefix}.attention.self.query``...)."""
    for dense, name in ((attention[0], query), (attention[1], key), (attention[2], value)):
        _dense(loader, dense, f"{prefix}.attention.self.{name}")
    _dense(loader, attention[3], f"{prefix}.attention.output.dense")
    _layer_norm(loader, block._self_attention_layer_norm, f"{prefix}.attention.output.LayerNorm")
    _dense(loader, block._feedforward_intermediate_dense, f"{prefix}.intermediate.dense")
    _dense(loader, block._feedforward_output_dense, f"{prefix}.output.dense")
    _layer_norm(loader, block._feedforward_layer_norm, f"{prefix}.output.LayerNorm")


def _convert_electra(backbone, loader) -> None:
    """ELECTRA discriminator (``electra.*`` names) into ``ElectraBackbone``: BERT's embeddings plus
    ``embeddings_project`` when ``embedding_size`` differs from ``hidden_size``; BERT's blocks."""
    loader.port_weight(backbone.token_embedding.embeddings, "embeddings.word_embeddings.weight")
    loader.port_weight(backbone.position_embedding.position_embeddings, "embeddings.position_embeddings.weight",
                       hook_fn=lambda w, s: w[: s[0]])
    loader.port_weight(backbone.segment_embedding.embeddings, "embeddings.token_type_embeddings.weight")
    _layer_norm(loader, backbone.embeddings_layer_norm, "embeddings.LayerNorm")
    if backbone.hidden_dim != backbone.embedding_dim:
        _dense(loader, backbone.embeddings_projection, "embeddings_project")
    for i, block in enumerate(backbone.transformer_layers):
        mha = block._self_attention_layer
        _port_post_norm_block(loader, block, (mha.query_dense, mha.key_dense, mha.value_dense, mha.output_dense),
                              f"encoder.layer.{i}")


def _convert_deberta_v3(backbone, loader) -> None:
    """DeBERTa-v3 (``deberta.*`` names, ``model_type`` "deberta-v2") into ``DebertaV3Backbone``:
    word embeddings and their LayerNorm, the relative position table and its LayerNorm
    (``encoder.rel_embeddings``, ``encoder.LayerNorm``), and per block the shared-key
    ``query_proj`` / ``key_proj`` / ``value_proj`` of ``DisentangledSelfAttention``."""
    loader.port_weight(backbone.token_embedding.embeddings, "embeddings.word_embeddings.weight")
    _layer_norm(loader, backbone.embeddings_layer_norm, "embeddings.LayerNorm")
    relative = backbone.get_layer("rel_embedding")
    loader.port_weight(relative.rel_embeddings, "encoder.rel_embeddings.weight")
    _layer_norm(loader, relative.layer_norm, "encoder.LayerNorm")
    for i, block in enumerate(backbone.transformer_layers):
        attention = block._self_attention_layer
        _port_post_norm_block(loader, block, (attention._query_dense, attention._key_dense, attention._value_dense,
                                              attention._output_dense), f"encoder.layer.{i}",
                              query="query_proj", key="key_proj", value="value_proj")


def transformer_blocks(backbone) -> list:
    """The distinct encoder blocks of a keras-hub backbone, in order (ALBERT's shared block once).

    Recognizes keras-hub's ``TransformerEncoder`` and DeBERTa's ``DisentangledAttentionEncoder``
    by their private ``_feedforward_intermediate_dense`` sublayer (see
    :func:`set_transformer_block_numerics`); ``backbone.layers`` is public.
    """
    return [layer for layer in backbone.layers if hasattr(layer, "_feedforward_intermediate_dense")]


# ------------------------------------------------------------- keras-hub: transformer blocks
def set_transformer_block_numerics(block, activation, layer_norm_epsilon: float) -> None:
    """Set the feed-forward activation and the LayerNorm epsilon of a built keras-hub
    ``TransformerEncoder`` ``block``.

    ``BertBackbone`` hard-codes tanh-approximated GELU and epsilon 1e-12 and exposes neither as
    an argument; checkpoints with exact ``"gelu"`` (most Hugging Face BERTs) or another epsilon
    need the sublayers changed after construction. Touches the private sublayers
    ``block._feedforward_intermediate_dense`` (its ``activation``), ``block._self_attention_layer_norm``
    and ``block._feedforward_layer_norm`` (their ``epsilon``), which the block creates in
    ``build`` and reads in ``call``. Checked on keras-hub 0.32.0.
    """
    block._feedforward_intermediate_dense.activation = activation
    block._self_attention_layer_norm.epsilon = layer_norm_epsilon
    block._feedforward_layer_norm.epsilon = layer_norm_epsilon


# --------------------------------------------------------------------------- Keras: layers
def nested_layers(layer) -> list:
    """All layers inside ``layer``, recursively, without ``layer`` itself.

    Touches ``keras.Layer._flatten_layers(include_self, recursive)``: Keras 3 has no public
    recursive walk over sublayers (``Model.layers`` is one level deep and, for subclassed
    models, only tracked attributes). Used to set a mixed-precision policy on every sublayer.
    Checked on Keras 3.15.1.
    """
    return layer._flatten_layers(include_self=False, recursive=True)


# --------------------------------------------------------------------------- Keras: training
def update_loss_tracker(model, loss, batch_size) -> None:
    """Record one step's ``loss`` in the loss that ``fit`` reports, as Keras's own
    ``train_step`` does.

    Touches ``keras.Model._loss_tracker`` (a ``keras.metrics.Mean`` named ``"loss"``, the first
    of ``model.metrics``; there is no public hook for a custom ``train_step`` to feed the
    reported loss). ``loss`` is this replica's share, so it is scaled back by the number of
    replicas, as Keras's ``unscale_loss_for_distribution`` does. Checked on Keras 3.15.1
    (TensorFlow trainer).
    """
    model._loss_tracker.update_state(loss * tf.distribute.get_strategy().num_replicas_in_sync,
                                     sample_weight=batch_size)


def train_step_two_optimizers(model, data, encoder_optimizer, encoder_paths):
    """One training step like Keras's TensorFlow ``train_step``, but the variables whose
    ``path`` is in ``encoder_paths`` are updated by ``encoder_optimizer`` and the others by
    ``model.optimizer`` (a pretrained encoder fine-tuned at its own learning rate).

    A copy of ``keras.src.backend.tensorflow.trainer.TensorFlowTrainer.train_step`` (Keras
    3.15.1), which has no hook for a second optimizer, reduced to what the tagger needs:
    ``data`` is ``(x, y)`` (no sample weights), and no loss scaling (``mixed_float16`` with a
    separate encoder optimizer is refused before training). Returns ``compute_metrics``'s logs.
    """
    x, y = data
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        update_loss_tracker(model, loss, tf.shape(x)[0])
    variables = model.trainable_variables
    gradients = tape.gradient(loss, variables)
    head = [(g, v) for g, v in zip(gradients, variables) if v.path not in encoder_paths]
    encoder = [(g, v) for g, v in zip(gradients, variables) if v.path in encoder_paths]
    model.optimizer.apply_gradients(head)
    if encoder:
        encoder_optimizer.apply_gradients(encoder)
    return model.compute_metrics(x, y, y_pred)


class LocalFirstBatchBuildMixin:
    """Build the model from this worker's first local batch, without a cross-worker reduce.

    Overrides ``keras.Model._maybe_symbolic_build(iterator=None, data_batch=None)``, which
    Keras's TensorFlow trainer calls at the start of ``fit`` / ``evaluate`` / ``predict`` with
    the epoch iterator (it yields ``(begin, end, iterator)`` triples). Keras reduces the first
    distributed batch with ``MEAN`` across replicas only to learn its structure; under
    ``MultiWorkerMirroredStrategy`` that is a collective over int id tensors whose shapes differ
    between workers, and it fails (tensorflow/tensorflow#72388). This worker's first local batch
    has the same structure. Checked on Keras 3.15.1 with TensorFlow 2.21.0.

    Put it before ``keras.Model`` in the bases.
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if iterator is not None and self.distribute_strategy is not None:
            for _, _, it in iterator:
                data_batch = tf.nest.map_structure(
                    lambda x: self.distribute_strategy.experimental_local_results(x)[0]
                    if isinstance(x, tf.distribute.DistributedValues) else x, next(it))
                break
            iterator = None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
