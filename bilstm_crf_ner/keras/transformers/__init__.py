"""Pretrained transformer encoders of several families from Hugging Face checkpoints.

``families`` says what each supported ``model_type`` is (its keras-hub backbone and config),
``checkpoint`` reads a folder (config, ``tokenizer.json``, safetensors weights), ``weights``
holds the safetensors reading and the loader that keras-hub's converters port from,
``numerics`` the activations, ``features`` the base of the Keras layers (BERT's too) and
``encoder`` is the Keras layer. The tokenizer alignment is
TensorFlow-free (:mod:`bilstm_crf_ner.core.subword`); the user-facing class is
:class:`bilstm_crf_ner.TransformerEmbedding`. Every use of keras-hub internals (the weight
converters, the blocks' numerics) is in :mod:`bilstm_crf_ner.keras.compat`.
"""
