"""Pretrained BERT encoders: checkpoint reading, hub handles, WordPiece alignment, the Keras layer.

``checkpoint`` and ``hub`` find and read checkpoints (Hugging Face folders, Google's original
TensorFlow checkpoints, ``hf://`` handles); ``wordpiece`` maps user tokens to pieces without
TensorFlow (the runtime uses it too); ``encoder`` is the Keras layer on keras-hub's
``BertBackbone``. The user-facing class is :class:`bilstm_crf_ner.BERTEmbedding`.
"""
