"""Pretrained BERT encoders: checkpoint reading, hub handles, the Keras layer.

``checkpoint`` and ``hub`` find and read checkpoints (Hugging Face folders, Google's original
TensorFlow checkpoints, ``hf://`` handles); the WordPiece alignment is TensorFlow-free and
lives in :mod:`bilstm_crf_ner.core.wordpiece` (the runtime uses it too); ``encoder`` is the Keras layer on keras-hub's
``BertBackbone``. The user-facing class is :class:`bilstm_crf_ner.BERTEmbedding`.
"""
